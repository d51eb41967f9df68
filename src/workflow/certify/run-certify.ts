import { basename, join, resolve } from "node:path";
import { writeFileAtomic } from "../../core/atomic-write.js";
import { EdgeforgeError } from "../../core/errors.js";
import { hashFileSha256, hashFolderSha256, hashSha256 } from "../../core/hashing.js";
import { pathExists } from "../../core/path-exists.js";
import type { Reporter } from "../../core/logger.js";
import type { Session } from "../../core/session.js";
import { formatShapes, type ShapeOverrides } from "../../core/shapes.js";
import { detectModelFormat } from "../../formats/detect-format.js";
import { detectHardware } from "../../hardware/detect-hardware.js";
import { machineFingerprint, summarizeMachine, type MachineSummary } from "../../hardware/machine-summary.js";
import { isQualityMetric } from "../../pareto/metric-catalog.js";
import { describeArtifactContents } from "../../registry/artifact-store.js";
import { metricRecordsOf } from "../../registry/register-optimize-report.js";
import { Registry } from "../../registry/registry.js";
import { readReport } from "../../reports/read-report.js";
import type { CandidateReport, Report } from "../../reports/report.js";
import { openRuntimeSession, type RuntimeId } from "../../runtimes/catalog.js";
import { buildProvenanceStatement, buildTestResultStatement, buildVerificationSummaryStatement } from "../../signing/attestation-statements.js";
import { signModel, verifyModelSignature } from "../../signing/model-signature.js";
import type { PrivateSigningKey } from "../../signing/signing-keys.js";
import { signStatement, type SigstoreKeyBundle } from "../../signing/sigstore-bundle.js";
import { edgeforgeVersion } from "../../core/edgeforge-version.js";
import { readToolVersions } from "../tool-versions.js";
import { latencyBudgets } from "./latency-budgets.js";
import { checkProvenance, type ComplianceSection, type SecuritySection } from "./check-provenance.js";
import { checkRobustness, type RobustnessSection } from "./check-robustness.js";
import { readCertifyRequirements, type CertifyRequirements } from "./certify-requirements.js";
import { buildReferenceProfile, type ReferenceProfile } from "./reference-profile.js";
import { judgeReportGates, referenceModelPath, remeasureAccuracy, remeasurePerformance, type GateSection, type MeasuredSection } from "./remeasure.js";
import { runtimeSettingsOfCandidate } from "../measure-speed.js";
import { runStress, type StressSection } from "./run-stress.js";
import { buildProbeSet, isLlamaSession, isTokenSession, type ProbeSet, type Tokenize } from "./session-probes.js";

export const certificationSchemaVersion = 1;

export interface CertifyCheck {
  section: "accuracy" | "performance" | "robustness" | "stress" | "security" | "compliance";
  name: string;
  required: boolean;
  passed: boolean;
  detail: string;
}

export interface NotApplicableCheck {
  section: CertifyCheck["section"];
  name: string;
  reason: string;
}

/** What certify cannot check on an MLX folder, and why; everything else runs on it as on a GGUF. */
const mlxNotApplicable: NotApplicableCheck[] = [
  { section: "stress", name: "concurrent execution", reason: "node-mlx runs one synchronous forward pass at a time, so requests in flight queue (the sweep measures that queueing)" },
  { section: "security", name: "known op domains only", reason: "an MLX folder has no operator graph: its forward pass is edgeforge's llama decoder over MLX ops" },
  { section: "compliance", name: "IR version and opsets", reason: "an MLX folder has no IR or opset versions (config.json and safetensors only)" },
  { section: "performance", name: "measured on the deployment hardware", reason: "MLX deploys on Apple silicon (Metal); here it runs on node-mlx's CPU build, so latency, throughput and CPU figures describe this machine, not an iPhone or Mac" },
];

export interface Certification {
  schemaVersion: typeof certificationSchemaVersion;
  kind: "edgeforge.certification";
  /** The validation timestamp. */
  validatedAt: string;
  durationMs: number;
  tool: { name: "edgeforge"; version: string; toolVersions: Record<string, string> };
  artifact: { path: string; name: string; format: string; sha256: string; sizeBytes: number; files: Array<{ name: string; sha256: string; sizeBytes: number }> };
  report: { path: string; sha256: string; createdAt: string; candidateId: string; machineFingerprint: string };
  machine: MachineSummary & { fingerprint: string };
  remeasured: boolean;
  remeasuredBecause: string;
  requirements: CertifyRequirements & { sha256: string; source: string };
  accuracy: MeasuredSection & { gates: GateSection["results"] };
  performance: MeasuredSection & { gates: GateSection["results"] };
  robustness: RobustnessSection;
  stress: StressSection;
  security: SecuritySection;
  compliance: ComplianceSection;
  /** Checks that cannot apply to this artifact's format, each with the reason (none are skipped silently). */
  notApplicable: NotApplicableCheck[];
  approval: { approved: boolean; checks: CertifyCheck[]; failed: Array<{ section: string; name: string; reason: string }> };
  monitoring: {
    schemaVersion: 1;
    latency: { p95BudgetMs: number; p99BudgetMs: number; source: string };
    errorRateThreshold: number;
    expectedConcurrency: number;
    referenceProfile: ReferenceProfile;
  };
  signature?: {
    path: string;
    keyHint: string;
    subjectDigest: string;
    attestations: { provenance: string; testResult: string; verificationSummary: string };
  };
  registry?: { path: string; model: string; version: string; certificationId: number };
}

export interface CertifyOptions extends Reporter {
  artifact: string;
  report: string;
  output: string;
  requirements?: string;
  signingKey?: PrivateSigningKey;
  shapes?: ShapeOverrides;
  /** Re-measure even when the report comes from this machine. */
  remeasure?: boolean;
  /** Registry to check lineage in (and to register into with `registerAs`). */
  registry?: string;
  registerAs?: string;
  seed?: number;
}

/** `digests`: the artifact's identities; a folder has two (the report's `hashFolderSha256`, the OMS root digest). */
function pickCandidate(report: Report, digests: readonly string[]): CandidateReport {
  const byDigest = report.candidates.find((c) => c.artifact?.sha256 !== undefined && digests.includes(c.artifact.sha256));
  const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
  const candidate = byDigest ?? recommended;
  if (!candidate) {
    throw new EdgeforgeError("NOTHING_TO_DO", "the report names no recommended candidate and none of its artifacts has this digest", {
      hint: "pass the report of the optimize run that produced this artifact",
      details: { sha256: digests[0] },
    });
  }
  return candidate;
}

function fromReport(candidate: CandidateReport, baseline: CandidateReport | undefined, names: (metric: string) => boolean, method: string): MeasuredSection {
  const select = (metrics: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(metrics).filter(([name]) => names(name)));
  return { source: "from the report", method, metrics: select(candidate.metrics), baselineMetrics: select(baseline?.metrics ?? {}) };
}

function collectChecks(c: Omit<Certification, "approval" | "monitoring" | "signature" | "registry" | "schemaVersion" | "kind" | "notApplicable">, requireLineage: boolean): CertifyCheck[] {
  const checks: CertifyCheck[] = [];
  const gateChecks = (section: "accuracy" | "performance", gates: GateSection["results"]): void => {
    for (const gate of gates) checks.push({ section, name: `gate: ${gate.requirement}`, required: true, passed: gate.passed, detail: gate.reason ?? `measured ${gate.measured ?? "?"}` });
  };
  gateChecks("accuracy", c.accuracy.gates);
  gateChecks("performance", c.performance.gates);
  if (c.accuracy.gates.length === 0) checks.push({ section: "accuracy", name: "accuracy measured", required: true, passed: Object.keys(c.accuracy.metrics).length > 0, detail: c.accuracy.method });
  if (c.performance.gates.length === 0) {
    const speedup = c.performance.metrics.speedup;
    const interval = c.performance.speedupInterval;
    const detail = `${speedup === undefined ? "no speed-up figure" : `speed-up ${speedup.toFixed(3)}×${interval ? ` (95% interval ${interval.low.toFixed(3)}–${interval.high.toFixed(3)}, ${interval.pairs} rounds)` : ""}`}; p50 ${c.performance.metrics.p50LatencyMs?.toFixed(2) ?? "?"} ms (${c.performance.source})`;
    checks.push({ section: "performance", name: "performance measured", required: true, passed: Object.keys(c.performance.metrics).length > 0, detail });
  }
  for (const p of c.robustness.perturbations) checks.push({ section: "robustness", name: `perturbation: ${p.name}`, required: true, passed: p.passed, detail: `degradation ${p.degradation.toFixed(4)} (limit ${c.robustness.maxDegradation})` });
  for (const b of c.robustness.badInputs) {
    checks.push({ section: "robustness", name: `bad input: ${b.name}`, required: true, passed: b.passed, detail: `${b.guard.rejected ? `refused: ${b.guard.message ?? ""}` : "not refused"}; runtime ${b.runtimeUsable ? "usable afterwards" : "NOT usable afterwards"}` });
  }
  const s = c.stress;
  checks.push({ section: "stress", name: `p99 at ${s.expectedConcurrency} in flight`, required: true, passed: s.p99AtExpectedMs <= s.p99BudgetMs, detail: `${s.p99AtExpectedMs.toFixed(2)} ms vs budget ${s.p99BudgetMs.toFixed(2)} ms (${s.p99BudgetSource})` });
  const errors = s.levels.reduce((sum, l) => sum + l.errors, 0);
  checks.push({ section: "stress", name: "no failed requests", required: true, passed: errors === 0, detail: `${errors} of ${s.levels.reduce((sum, l) => sum + l.requests + l.errors, 0)} requests failed` });
  checks.push({ section: "stress", name: "memory bounded", required: true, passed: s.rssGrowthBytes <= s.maxRssGrowthBytes, detail: `RSS grew ${(s.rssGrowthBytes / 1048576).toFixed(1)} MiB from the first level to the last (limit ${(s.maxRssGrowthBytes / 1048576).toFixed(0)} MiB)` });
  const sec = c.security;
  checks.push({ section: "security", name: "file size limit", required: true, passed: sec.oversizedFiles.length === 0, detail: sec.oversizedFiles.length === 0 ? `every file ≤ ${sec.maxFileBytes} bytes` : `above the limit: ${sec.oversizedFiles.join(", ")}` });
  checks.push({ section: "security", name: "external data inside the model folder", required: true, passed: sec.externalData.insideModelFolder, detail: sec.externalData.error ?? `${sec.externalData.files.length} ${c.artifact.format === "mlx" ? "weight file(s) named by model.safetensors.index.json" : "external data file(s)"}` });
  if (c.artifact.format !== "mlx") checks.push({ section: "security", name: "known op domains only", required: true, passed: sec.unknownOpDomains.length === 0, detail: `${sec.unknownOpDomains.length === 0 ? `domains: ${sec.opDomains.join(", ") || "n/a"}` : `unknown: ${sec.unknownOpDomains.join(", ")}`}${sec.unusedOpDomainImports.length > 0 ? `; imported but used by no node: ${sec.unusedOpDomainImports.join(", ")}` : ""}` });
  checks.push({ section: "security", name: "weights from the registry's lineage", required: requireLineage, passed: sec.registryLineage.registered, detail: sec.registryLineage.note });
  const comp = c.compliance;
  checks.push({ section: "compliance", name: "licence recorded", required: true, passed: comp.licence !== undefined, detail: comp.licence ? `${comp.licence} (from the ${comp.licenceSource})` : "no licence in the model; set compliance.licence in the requirements" });
  checks.push({ section: "compliance", name: "producer recorded", required: true, passed: comp.producer !== undefined, detail: comp.producer ? `${comp.producer} (from the ${comp.producerSource})` : "no producer in the model; set compliance.producer in the requirements" });
  checks.push({ section: "compliance", name: "runtime supports the model", required: true, passed: comp.loadedByRuntime, detail: `${comp.runtime} ${comp.runtimeVersion} loaded and ran it${comp.irVersion === undefined ? "" : ` (IR ${comp.irVersion}, opsets ${comp.opsets.map((o) => `${o.domain} ${o.version}`).join(", ")})`}` });
  return checks;
}

/**
 * An MLX folder carries tokenizer files but node-mlx no tokenizer: the GGUF it was exported from (the
 * report's input model) tokenizes the held-out text in llama.cpp, as optimize does; same vocabulary required.
 */
async function openBaseTokenizer(basePath: string, session: Session): Promise<{ tokenize: Tokenize; close: () => Promise<void> }> {
  const base = await openRuntimeSession("llama-cpp", basePath, "gguf", { contextSize: 128 });
  if (!isLlamaSession(base) || !isTokenSession(session) || base.vocabularySize !== session.vocabularySize) {
    const sizes = `${isTokenSession(session) ? session.vocabularySize : "?"} vs ${isLlamaSession(base) ? base.vocabularySize : "?"}`;
    await base.close();
    throw new EdgeforgeError("INVALID_OPTION", `the MLX folder and ${basePath} have different vocabularies (${sizes} tokens)`, { hint: "certify the MLX folder with the report of the optimize run that exported it from this GGUF" });
  }
  return { tokenize: (text) => base.tokenize(text, { addBos: false }), close: () => base.close() };
}

async function writeJson(path: string, value: unknown, signal?: AbortSignal): Promise<string> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  await writeFileAtomic(path, text, signal);
  return hashSha256(text);
}

/**
 * The production-readiness validation: accuracy and performance (re-measured side by side when the
 * report comes from other hardware), robustness, stress, security, compliance, approval and the
 * monitoring baselines; writes certification.json and, with a key, the OMS signature and signed
 * attestations; optionally registers the artifact with its certification.
 */
export async function runCertify(options: CertifyOptions): Promise<Certification> {
  const started = performance.now();
  const validatedAt = new Date().toISOString();
  const signal = options.signal;
  const reporter: Reporter = { ...(options.logger ? { logger: options.logger } : {}), ...(signal ? { signal } : {}) };
  const artifactPath = resolve(options.artifact);
  const outputDir = resolve(options.output);
  const version = edgeforgeVersion;
  const [report, requirements, detected, contents, hardware, toolVersions] = await Promise.all([
    readReport(options.report, signal),
    readCertifyRequirements(options.requirements, signal),
    detectModelFormat(artifactPath),
    describeArtifactContents(artifactPath, signal),
    detectHardware(signal ? { signal } : {}),
    readToolVersions(),
  ]);
  const format = detected.format;
  const candidate = pickCandidate(report, contents.isFolder ? [contents.digest, await hashFolderSha256(artifactPath, signal)] : [contents.digest]);
  const baseline = report.candidates.find((c) => c.isBaseline);
  const machine = summarizeMachine(hardware);
  const fingerprint = machineFingerprint(machine);
  const reportFingerprint = machineFingerprint(report.machine);
  const remeasured = options.remeasure === true || fingerprint !== reportFingerprint;
  const remeasuredBecause = fingerprint !== reportFingerprint ? `the report was measured on other hardware (${reportFingerprint}, this machine ${fingerprint})` : options.remeasure ? "asked for (--remeasure)" : "same hardware as the report: its figures are used";
  // The shapes the report measured at, unless the caller fixes others.
  const shapes = { ...report.input.shapes, ...options.shapes };
  const seed = options.seed ?? 42;
  options.logger?.info(`certify: ${basename(artifactPath)} (${format}); ${remeasuredBecause}`);
  if (report.input.shapes) options.logger?.info(`certify: input shapes ${formatShapes(shapes)} (the report's${options.shapes && Object.keys(options.shapes).length > 0 ? ", with --shape over them" : ""})`);

  const llm = format === "gguf" || format === "mlx";
  if (llm && requirements.evaluation.text === undefined && report.evaluation?.task === "llm" && (await pathExists(report.evaluation.source))) {
    requirements.evaluation.text = report.evaluation.source;
    options.logger?.info(`certify: held-out text ${report.evaluation.source} (the optimize run's --eval)`);
  }
  if (llm && requirements.evaluation.text === undefined) {
    throw new EdgeforgeError("INVALID_CONFIG", `certifying a ${format === "mlx" ? "MLX folder" : "GGUF model"} needs held-out text`, {
      hint: "set evaluation.text in the requirements file (--requirements); the optimize run's --eval text is used when it is on this machine",
    });
  }
  // A Hugging Face input is compared through the GGUF its baseline ran (its conversion).
  const referencePath = referenceModelPath(report);
  if (format === "mlx" && report.input.format !== "gguf" && report.input.format !== "safetensors") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `certify measures an MLX folder against the GGUF it was exported from, or its Hugging Face source's conversion; this report's input is ${report.input.format}`, {
      hint: "export the MLX folder from a GGUF or a Hugging Face folder (`edgeforge optimize MODEL --pass mlx.export`) and certify it with that report",
    });
  }
  if (referencePath === undefined) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `this report (input ${report.input.format}) records no GGUF its baseline ran, which certify compares the artifact with`, {
      hint: "certify with the report of the optimize run the artifact came from, with its baseline measured",
    });
  }
  const measureOptions = { format, shapes, requirements, seed, ...reporter };
  const needsReference = remeasured || format === "mlx";
  if (needsReference && !(await pathExists(referencePath))) {
    throw new EdgeforgeError("FILE_NOT_FOUND", `re-measuring needs ${referencePath === report.input.path ? "the report's input model" : "the GGUF the report's baseline ran"}, ${referencePath}, which is not here`, {
      hint: "copy it to that path, or certify on the machine the report was made on",
      details: { path: referencePath },
    });
  }
  const subject = { artifactPath, report, candidate, referencePath };
  const performanceSection = remeasured ? await remeasurePerformance(subject, measureOptions) : fromReport(candidate, baseline, (m) => !isQualityMetric(m), report.candidates.find((c) => c.id === candidate.id)?.measurement?.isolation ?? "optimize report");
  const accuracySection = remeasured ? await remeasureAccuracy(subject, measureOptions) : fromReport(candidate, baseline, (m) => isQualityMetric(m), candidate.evaluationMethod ?? "optimize report");
  // Estimates (memory for the run from the file's header, say) are not re-measured: the report's stand, as estimates.
  const estimates = (c: CandidateReport | undefined): Record<string, number> =>
    remeasured && c ? Object.fromEntries(c.estimatedMetrics.flatMap((name) => (c.metrics[name] === undefined ? [] : [[name, c.metrics[name]]]))) : {};
  const allMetrics = { ...estimates(candidate), ...performanceSection.metrics, ...accuracySection.metrics, sizeBytes: contents.sizeBytes };
  const gates = judgeReportGates(report, allMetrics, { ...estimates(baseline), ...performanceSection.baselineMetrics, ...accuracySection.baselineMetrics, ...(baseline ? { sizeBytes: baseline.artifact?.sizeBytes ?? report.input.sizeBytes } : {}) });
  const splitGates = (accuracy: boolean): GateSection["results"] => gates.results.filter((g) => isQualityMetric(g.metric) === accuracy);

  const settings = runtimeSettingsOfCandidate(candidate);
  const session = await openRuntimeSession(candidate.runtime.runtime as RuntimeId, artifactPath, format, settings);
  let robustness: RobustnessSection;
  let stress: StressSection;
  let profile: ReferenceProfile;
  const description = session.describe();
  try {
    const tokenizer = format === "mlx" ? await openBaseTokenizer(referencePath, session) : undefined;
    let probes: ProbeSet;
    try {
      probes = await buildProbeSet(session, { shapes, samples: requirements.robustness.samples, seed, ...(requirements.evaluation.text ? { text: requirements.evaluation.text } : {}), ...(tokenizer ? { tokenize: tokenizer.tokenize } : {}), ...(signal ? { signal } : {}) });
    } finally {
      await tokenizer?.close();
    }
    robustness = await checkRobustness(session, probes, requirements.robustness.maxDegradation);
    const reportP99 = candidate.latency?.p99Ms ?? candidate.metrics.p99LatencyMs;
    const p99BudgetMs = requirements.latency.p99Ms ?? (reportP99 === undefined ? Number.POSITIVE_INFINITY : 3 * reportP99);
    const p99BudgetSource = requirements.latency.p99Ms ? "requirements file" : reportP99 === undefined ? "none given" : `default: 3× the report's p99 (${reportP99.toFixed(2)} ms)`;
    stress = await runStress(session, probes, {
      maxConcurrency: requirements.stress.maxConcurrency,
      durationMs: requirements.stress.durationMs,
      expectedConcurrency: requirements.stress.expectedConcurrency,
      p99BudgetMs,
      p99BudgetSource,
      maxRssGrowthBytes: requirements.stress.maxRssGrowthBytes,
      ...(signal ? { signal } : {}),
    });
    profile = buildReferenceProfile(probes, requirements.monitoring.histogramBins);
  } finally {
    await session.close();
  }

  const registry = options.registry !== undefined || options.registerAs !== undefined ? Registry.open(options.registry) : undefined;
  try {
    const { security, compliance } = await checkProvenance(artifactPath, format, contents, requirements, { runtime: description.runtime, runtimeVersion: description.runtimeVersion, loaded: true }, registry);
    const requirementsText = JSON.stringify(requirements);
    const body = {
      validatedAt,
      durationMs: 0,
      tool: { name: "edgeforge" as const, version, toolVersions },
      artifact: { path: artifactPath, name: basename(artifactPath), format, sha256: contents.digest, sizeBytes: contents.sizeBytes, files: contents.files },
      report: { path: resolve(options.report), sha256: await hashFileSha256(options.report, signal), createdAt: report.createdAt, candidateId: candidate.id, machineFingerprint: reportFingerprint },
      machine: { ...machine, fingerprint },
      remeasured,
      remeasuredBecause,
      requirements: { ...requirements, sha256: hashSha256(requirementsText), source: options.requirements ? resolve(options.requirements) : "defaults" },
      accuracy: { ...accuracySection, gates: splitGates(true) },
      performance: { ...performanceSection, gates: splitGates(false) },
      robustness,
      stress,
      security,
      compliance,
    };
    const checks = collectChecks(body, requirements.security.requireRegistryLineage);
    const failed = checks.filter((c) => c.required && !c.passed).map((c) => ({ section: c.section, name: c.name, reason: c.detail }));
    const atExpected = [...stress.levels].reverse().find((l) => l.concurrency <= stress.expectedConcurrency) ?? stress.levels[0];
    const certification: Certification = {
      schemaVersion: certificationSchemaVersion,
      kind: "edgeforge.certification",
      ...body,
      notApplicable: format === "mlx" ? mlxNotApplicable : [],
      approval: { approved: failed.length === 0, checks, failed },
      monitoring: {
        schemaVersion: 1,
        latency: latencyBudgets(requirements.latency.p95Ms, atExpected?.p95Ms ?? 0, stress),
        errorRateThreshold: requirements.monitoring.errorRateThreshold,
        expectedConcurrency: requirements.stress.expectedConcurrency,
        referenceProfile: profile,
      },
    };

    let bundles: { model: SigstoreKeyBundle; attestations: Record<string, SigstoreKeyBundle> } | undefined;
    if (options.signingKey) {
      const signaturePath = join(outputDir, `${basename(artifactPath)}.sig`);
      const signed = await signModel(artifactPath, options.signingKey, { signaturePath, ...(signal ? { signal } : {}) });
      await writeJson(signaturePath, signed.bundle, signal);
      // the bundle just written must verify against the artifact before it is reported
      await verifyModelSignature(artifactPath, signed.bundle, options.signingKey.publicKey, { signaturePath, ...(signal ? { signal } : {}) });
      const subject = { name: basename(artifactPath), digest: { sha256: contents.digest } };
      const provenance = signStatement(
        buildProvenanceStatement(subject, {
          buildType: "https://github.com/edgeforge/edgeforge/optimize@v1",
          builderId: `edgeforge@${report.tool.version}`,
          input: { name: basename(report.input.path), sha256: report.input.sha256 },
          passes: candidate.passes.map((p) => ({ passId: p.passId, passVersion: p.passVersion, options: p.options })),
          runtime: { ...candidate.runtime },
          toolVersions: { ...toolVersions, ...(candidate.measurement?.runtimeVersion ? { runtime: candidate.measurement.runtimeVersion } : {}) },
          finishedOn: report.createdAt,
        }),
        options.signingKey,
      );
      const testResult = signStatement(
        buildTestResultStatement(subject, {
          passed: checks.filter((c) => c.passed).map((c) => `${c.section}: ${c.name}`),
          failed: checks.filter((c) => c.required && !c.passed).map((c) => `${c.section}: ${c.name}`),
          warned: checks.filter((c) => !c.required && !c.passed).map((c) => `${c.section}: ${c.name}`),
          configuration: [{ name: "requirements", digest: { sha256: certification.requirements.sha256 } }, { name: basename(options.report), digest: { sha256: certification.report.sha256 } }],
          url: join(outputDir, "certification.json"),
        }),
        options.signingKey,
      );
      const paths = { provenance: join(outputDir, "provenance.sigstore.json"), testResult: join(outputDir, "test-result.sigstore.json"), verificationSummary: join(outputDir, "verification-summary.sigstore.json") };
      const provenanceDigest = await writeJson(paths.provenance, provenance, signal);
      const testResultDigest = await writeJson(paths.testResult, testResult, signal);
      const summary = signStatement(
        buildVerificationSummaryStatement(subject, {
          verifierId: `edgeforge@${version}`,
          timeVerified: validatedAt,
          resourceUri: artifactPath,
          policy: { uri: certification.requirements.source, digest: { sha256: certification.requirements.sha256 } },
          inputAttestations: [{ uri: paths.provenance, digest: { sha256: provenanceDigest } }, { uri: paths.testResult, digest: { sha256: testResultDigest } }],
          passed: certification.approval.approved,
        }),
        options.signingKey,
      );
      await writeJson(paths.verificationSummary, summary, signal);
      certification.signature = { path: signaturePath, keyHint: options.signingKey.publicKey.hint, subjectDigest: signed.statement.subject[0]?.digest.sha256 ?? "", attestations: paths };
      bundles = { model: signed.bundle, attestations: { provenance, testResult, verificationSummary: summary } };
    }

    if (registry && options.registerAs) {
      const inputExists = await pathExists(report.input.path);
      const registered = await registry.addVersion({
        model: options.registerAs,
        path: artifactPath,
        command: "certify --register",
        notes: `certified ${certification.approval.approved ? "and approved" : "(not approved)"} at ${validatedAt}`,
        ...(inputExists ? { parentPath: report.input.path } : {}),
        passes: candidate.passes.map((p) => ({ passId: p.passId, passVersion: p.passVersion, options: p.options })),
        toolVersions,
        ...(signal ? { signal } : {}),
      });
      registry.recordEvaluation({
        artifactDigest: registered.artifactDigest,
        metrics: metricRecordsOf(allMetrics),
        hardwareFingerprint: remeasured ? fingerprint : reportFingerprint,
        runtime: description.runtime,
        runtimeVersion: description.runtimeVersion,
        source: `certify ${remeasured ? "(re-measured)" : "(figures from the report)"}`,
        measuredAt: validatedAt,
      });
      certification.durationMs = performance.now() - started;
      const certificationId = registry.recordCertification({
        artifactDigest: registered.artifactDigest,
        approved: certification.approval.approved,
        certificate: certification,
        ...(bundles ? { signatureBundle: bundles.model, attestations: bundles.attestations, keyHint: options.signingKey?.publicKey.hint } : {}),
      });
      certification.registry = { path: registry.path, model: registered.model, version: registered.version, certificationId };
    }
    certification.durationMs = performance.now() - started;
    await writeJson(join(outputDir, "certification.json"), certification, signal);
    return certification;
  } finally {
    registry?.close();
  }
}
