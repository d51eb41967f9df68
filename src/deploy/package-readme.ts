import { formatMs } from "../core/units.js";
import { latencySeriesFor } from "../monitor/alert-budgets.js";
import type { DeploymentSizing } from "./deployment-sizing.js";
import type { MobileBundleManifest } from "./mobile-bundle.js";
import type { PackageInput } from "./read-package-input.js";
import { packageFolders, packageManifestName, publicKeyFileName, type ServedModel } from "./served-model.js";

export interface ReadmeContext {
  input: PackageInput;
  model?: ServedModel;
  sizing?: DeploymentSizing;
  edgeforgeVersion: string;
}

function certificationSummary({ input }: ReadmeContext): string[] {
  const c = input.certification;
  const p99 = [...c.stress.levels].reverse().find((l) => l.concurrency <= c.monitoring.expectedConcurrency) ?? c.stress.levels[0];
  return [
    "## What is certified",
    "",
    `- Artifact: \`${c.artifact.name}\` (${c.artifact.format}), sha256 \`${input.contents.digest}\`, ${input.contents.sizeBytes.toLocaleString("en-US")} bytes.`,
    `- Approved by \`edgeforge certify\` at ${c.validatedAt} on ${c.machine.cpu} (${c.machine.logicalThreads} threads); runtime ${c.compliance.runtime} ${c.compliance.runtimeVersion}; licence ${c.compliance.licence ?? "not recorded"}.`,
    `- Measured there (stress sweep, certify's own process): p99 ${p99?.p99Ms.toFixed(1) ?? "?"} ms and ${p99?.throughputPerSec.toFixed(1) ?? "?"} requests/s at ${p99?.concurrency ?? "?"} in flight. Monitoring budgets: p95 ${formatMs(c.monitoring.latency.p95BudgetMs)}, p99 ${formatMs(c.monitoring.latency.p99BudgetMs)}, error rate ${c.monitoring.errorRateThreshold}.`,
    `- \`${packageFolders.certification}/\` holds \`certification.json\`, the OpenSSF Model Signing bundle \`${input.artifactName}.sig\` and the signed attestations; \`${packageFolders.model}/${input.artifactName}.sig\` is the same bundle beside the model, where \`edgeforge serve --require-signature\` looks for it.`,
    "",
    "Verify before you deploy (with the release public key):",
    "",
    "```sh",
    `edgeforge verify ${packageFolders.model}/${input.artifactName} --signature ${packageFolders.model}/${input.artifactName}.sig --key ${input.publicKeyPath ? publicKeyFileName : "release.pub.pem"}`,
    "```",
    "",
  ];
}

function sizingLines({ sizing }: ReadmeContext): string[] {
  if (!sizing) return [];
  return [
    "## Resources",
    "",
    `Memory request ${(sizing.memoryRequestBytes / 1048576).toFixed(0)} MiB, limit ${(sizing.memoryLimitBytes / 1048576).toFixed(0)} MiB; CPU request ${sizing.cpuRequest} cores, limit ${sizing.cpuLimit} (${sizing.cpuSource === "measured" ? "sized from measured CPU time" : "an estimate from the thread count"}); ${sizing.threads} compute thread(s).`,
    `How: ${sizing.method}.`,
    "",
  ];
}

const endpoints = (model: ServedModel, base: string): string[] => [
  "## Endpoints",
  "",
  `- \`${base}/v2/health/ready\` (200 once the model has loaded), \`${base}/v2/health/live\``,
  `- \`${base}/metrics\` (Prometheus), \`${base}/dashboard\` (live dashboard)`,
  `- ${model.artifactName.endsWith(".gguf") ? `OpenAI API: \`${base}/v1/chat/completions\` with \`"model": "${model.name}"\`` : `Open Inference Protocol: \`${base}/v2/models/${model.name}/versions/${model.version}/infer\``}`,
  "",
];

export function renderDockerReadme(context: ReadmeContext, imageTag: string, vendoredTarball: string, overridden: boolean): string {
  const model = context.model as ServedModel;
  const sizing = context.sizing as DeploymentSizing;
  return [
    `# ${model.name} ${model.version} — container image`,
    "",
    `Written by \`edgeforge package --target docker\` (edgeforge ${context.edgeforgeVersion}). The image runs \`edgeforge serve\` as an unprivileged user (uid 1000) with the model, its signature and its certification owned by root (read-only to the server).`,
    "",
    "## Build and run",
    "",
    "```sh",
    `docker build -t ${imageTag} .`,
    `docker run -d --name edgeforge-${model.name} -p ${model.port}:${model.port} --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges --memory ${Math.ceil(sizing.memoryLimitBytes / 1048576)}m --cpus ${sizing.cpuLimit} ${imageTag}`,
    `curl -fsS http://127.0.0.1:${model.port}/v2/health/ready`,
    `docker inspect --format '{{.State.Health.Status}}' edgeforge-${model.name}   # healthy once the model has loaded`,
    "```",
    "",
    overridden
      ? `edgeforge is installed from \`${vendoredTarball}\`, the tarball given with \`--edgeforge-tarball\`, copied into this folder; its dependencies come from the npm registry.`
      : `edgeforge ${context.edgeforgeVersion} is installed from \`${vendoredTarball}\`: an \`npm pack\` tarball of the edgeforge that wrote this package, made at packaging time (edgeforge need not be published); its dependencies come from the npm registry. \`--edgeforge-tarball FILE\` puts another tarball here.`,
    "The base image is pinned to a release tag; for byte-for-byte rebuilds pin it by digest (`docker buildx imagetools inspect` gives it) with `--base-image node:…@sha256:…`.",
    "",
    ...serverReadmeTail(model, context),
  ].join("\n");
}

export function renderSystemdReadme(context: ReadmeContext, unitName: string, installDir: string, edgeforgeBin: string, vendoredTarball: string): string {
  const model = context.model as ServedModel;
  return [
    `# ${model.name} ${model.version} — systemd service`,
    "",
    `Written by \`edgeforge package --target systemd\` (edgeforge ${context.edgeforgeVersion}). The unit runs \`edgeforge serve\` under a throw-away user (DynamicUser), with the file system read-only, no capabilities, a system-call allow-list, restart on failure, and memory/CPU limits from the certification.`,
    "",
    "## Install",
    "",
    "```sh",
    `sudo npm install --global ./${vendoredTarball}     # edgeforge ${context.edgeforgeVersion} packed with this package; provides ${edgeforgeBin} (or package again with --edgeforge-bin PATH)`,
    `sudo mkdir -p ${installDir} && sudo cp -r . ${installDir}/ && sudo chmod -R a+rX ${installDir}`,
    `sudo cp ${installDir}/${unitName} /etc/systemd/system/${unitName}`,
    `sudo systemd-analyze verify /etc/systemd/system/${unitName}`,
    `sudo systemctl daemon-reload && sudo systemctl enable --now ${unitName}`,
    `curl -fsS http://127.0.0.1:${model.port}/v2/health/ready`,
    `journalctl -u ${unitName} -f`,
    "```",
    "",
    "`systemd-analyze security " + unitName + "` rates the hardening. `MemoryDenyWriteExecute` is left off on purpose: Node.js's JIT compiler needs pages that are writable and executable.",
    "",
    ...serverReadmeTail(model, context),
  ].join("\n");
}

export function renderMobileReadme(context: ReadmeContext, manifest: MobileBundleManifest): string {
  const { size, memory, runtime } = manifest;
  const platformName = { android: "Android", ios: "iOS", bundle: "cross-platform (ONNX Runtime)" }[manifest.platform];
  return [
    `# ${manifest.model.name} — ${platformName} bundle`,
    "",
    `Written by \`edgeforge package --target ${manifest.platform}\` (edgeforge ${context.edgeforgeVersion}). \`bundle-manifest.json\` is the machine-readable form of this page.`,
    "",
    "## Model",
    "",
    `- ${manifest.model.format}, ${manifest.model.quantization} (${manifest.model.quantizationSource}), ${manifest.model.parameterCount.toLocaleString("en-US")} parameters, sha256 \`${manifest.model.sha256}\``,
    ...manifest.model.files.map((f) => `- \`${f.path}\` — ${f.sizeBytes.toLocaleString("en-US")} bytes`),
    "",
    "## Runtime",
    "",
    `${runtime.name}${runtime.certifiedWith ? `; certified with ${runtime.certifiedWith}` : ""}. Settings:`,
    "",
    "```json",
    JSON.stringify(runtime.settings, null, 2),
    "```",
    "",
    ...(manifest.onnxOperators
      ? ["The operators the model needs are in `required_operators.config`, the format ONNX Runtime's build takes for a reduced-size runtime (`./build.sh --minimal_build --include_ops_by_config required_operators.config`):", "", ...manifest.onnxOperators.map((s) => `- ${s.domain} opset ${s.opset}: ${s.ops.join(", ")}`), ""]
      : []),
    "## Size and memory",
    "",
    "| figure | value | kind |",
    "|---|---|---|",
    `| model files | ${size.modelBytes.toLocaleString("en-US")} B | measured |`,
    `| runtime libraries | ${size.runtimeLibraryBytes === undefined ? "not counted" : `${size.runtimeLibraryBytes.toLocaleString("en-US")} B`} | ${size.runtimeLibraryKind ?? "—"}: ${size.runtimeLibraryMethod} |`,
    `| total against the budget | ${size.totalBytes.toLocaleString("en-US")} B of ${size.budgetBytes === undefined ? "no budget" : `${size.budgetBytes.toLocaleString("en-US")} B`} | ${size.budgetSource} |`,
    `| expected RAM while running | ${memory.expectedRunBytes.toLocaleString("en-US")} B${memory.deviceBudgetBytes === undefined ? "" : ` of ${memory.deviceBudgetBytes.toLocaleString("en-US")} B on ${memory.device}`} | estimate: ${memory.expectedRunMethod} |`,
    ...(memory.measuredPeakRssBytes === undefined ? [] : [`| peak resident memory measured by certify | ${memory.measuredPeakRssBytes.toLocaleString("en-US")} B | measured: ${memory.measuredOn ?? ""} |`]),
    "",
    "## Checks",
    "",
    ...manifest.checks.map((c) => `- ${c.passed ? "pass" : c.required ? "FAIL" : "advice"}: ${c.name} — ${c.detail}`),
    "",
    ...certificationSummary(context),
  ].join("\n");
}

export function renderK8sReadme(context: ReadmeContext, image: string, manifestFiles: readonly string[]): string {
  const latency = latencySeriesFor(context.input.certification.artifact.format);
  const model = context.model as ServedModel;
  const sizing = context.sizing as DeploymentSizing;
  const app = `edgeforge-${model.name}`;
  return [
    `# ${model.name} ${model.version} — Kubernetes`,
    "",
    `Written by \`edgeforge package --target k8s\` (edgeforge ${context.edgeforgeVersion}). The image is built from this folder's Dockerfile (the docker target's); \`k8s/\` holds the manifests.`,
    "",
    "## Deploy",
    "",
    "```sh",
    `docker build -t ${image} . && docker push ${image}     # or load it into the cluster (kind load docker-image ${image})`,
    ...manifestFiles.filter((f) => f !== "progressive-delivery.yaml").map((f) => `kubectl apply -f k8s/${f}`),
    `kubectl rollout status deployment/${app}`,
    `kubectl port-forward service/${app} ${model.port}:${model.port} &  curl -fsS http://127.0.0.1:${model.port}/v2/health/ready`,
    "```",
    "",
    "## Progressive delivery (Argo Rollouts)",
    "",
    `\`k8s/progressive-delivery.yaml\` holds an \`AnalysisTemplate\` and a \`Rollout\` that takes over the Deployment (\`workloadRef\`, scaled down progressively): 10 % of the replicas on the new version, 2 minutes, analysis; 50 %, 5 minutes, analysis; then all. The analysis queries Prometheus (\`prometheus-address\` argument) for the new version's p95 and p99 ${latency.name} ${latency.covers} and its 5xx share, over serve's metrics (\`${latency.metric}\`, \`edgeforge_requests_total\`, labels \`model\`, \`version\`), against the certification's budgets; one failed measurement aborts the roll-out. With it, point the HorizontalPodAutoscaler at the Rollout (\`scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout}\`).`,
    "",
    "```sh",
    "kubectl apply -f k8s/progressive-delivery.yaml",
    `kubectl argo rollouts get rollout ${app} --watch`,
    "```",
    "",
    `Scaling: the HorizontalPodAutoscaler keeps CPU at 70 % of the request; one replica sustained ${sizing.throughputPerReplica.toFixed(1)} requests/s at the certified concurrency (certify's stress sweep on ${context.input.certification.machine.cpu}), a figure for a custom-metrics autoscaler.`,
    "",
    ...serverReadmeTail(model, context),
  ].join("\n");
}

/** What every server package's README ends with: the endpoints, the sizing, the certification and the file list. */
function serverReadmeTail(model: ServedModel, context: ReadmeContext): string[] {
  return [
    ...endpoints(model, `http://127.0.0.1:${model.port}`),
    ...sizingLines(context),
    ...certificationSummary(context),
    `Every file of this package is listed with its sha256 in \`${packageManifestName}\`.`,
    "",
  ];
}
