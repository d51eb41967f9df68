import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { copyFileAtomic, writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import { hashFileSha256, hashSha256 } from "../core/hashing.js";
import type { Reporter } from "../core/logger.js";
import { claimOutputFolder } from "../core/output-folder.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { sizeDeployment } from "./deployment-sizing.js";
import { defaultBaseImage, imagePaths, renderDockerfile, renderDockerignore } from "./docker-files.js";
import { buildMobileBundle, withCertification, type MobileBundleManifest, type MobilePlatform } from "./mobile-bundle.js";
import { packEdgeforge } from "./pack-edgeforge.js";
import { renderOrtOperatorConfig } from "./onnx-operator-config.js";
import { defaultPrometheusAddress, renderK8sManifests } from "./k8s-files.js";
import { renderDockerReadme, renderK8sReadme, renderMobileReadme, renderSystemdReadme } from "./package-readme.js";
import { readArtifactInput, readPackageInput, type PackageInput } from "./read-package-input.js";
import { defaultServePort, packageFolders, packageManifestName, publicKeyFileName, servedNameOf, servedVersionOf, type ServedModel } from "./served-model.js";
import { defaultEdgeforgeBin, renderSystemdUnit, systemdUnitName } from "./systemd-unit.js";

export const packageTargets = ["docker", "k8s", "systemd", "android", "ios", "bundle"] as const;
export type PackageTarget = (typeof packageTargets)[number];

export interface PackageOptions extends Reporter {
  artifact: string;
  /** The folder `edgeforge certify` wrote (certification.json, ARTIFACT.sig, attestations). */
  certification: string;
  target: PackageTarget;
  output: string;
  edgeforgeVersion: string;
  /** Public key: verify the signature now, ship the key, and make the server verify on every load. */
  publicKey?: string;
  name?: string;
  version?: string;
  threads?: number;
  port?: number;
  /** Mobile: size budget instead of the workflow's; device profile for the RAM check. */
  budgetBytes?: number;
  device?: TargetProfile;
  contextLength?: number;
  /** docker */
  baseImage?: string;
  edgeforgeTarball?: string;
  /** k8s: the image the Deployment runs (default: the docker target's local tag), replicas, Prometheus for the canary analysis */
  image?: string;
  replicas?: number;
  maxReplicas?: number;
  prometheusAddress?: string;
  /** systemd */
  installDir?: string;
  edgeforgeBin?: string;
  drainMs?: number;
}

export interface PackagedFile {
  path: string;
  sha256: string;
  sizeBytes: number;
  role: "model" | "signature" | "certification" | "public-key" | "generated" | "runtime";
}

export interface PackageResult {
  schemaVersion: 1;
  kind: "edgeforge.package";
  target: PackageTarget;
  dir: string;
  model: { name: string; version: string; artifact: string; format: string; sha256: string };
  files: PackagedFile[];
  bundle?: MobileBundleManifest;
  createdAt: string;
  edgeforgeVersion: string;
}

type PlannedFile = { path: string; role: PackagedFile["role"] } & ({ text: string } | { source: string; sha256?: string; sizeBytes?: number });

function carriedFiles(input: PackageInput): PlannedFile[] {
  const files: PlannedFile[] = input.contents.files.map((f) => ({
    path: f.name === "." ? `${packageFolders.model}/${input.artifactName}` : `${packageFolders.model}/${input.artifactName}/${f.name}`,
    source: f.name === "." ? input.artifactPath : join(input.artifactPath, ...f.name.split("/")),
    sha256: f.sha256,
    sizeBytes: f.sizeBytes,
    role: "model" as const,
  }));
  files.push({ path: `${packageFolders.model}/${input.artifactName}.sig`, source: input.signaturePath, role: "signature" });
  files.push({ path: `${packageFolders.certification}/certification.json`, source: join(input.certificationDir, "certification.json"), role: "certification" });
  files.push({ path: `${packageFolders.certification}/${input.artifactName}.sig`, source: input.signaturePath, role: "signature" });
  for (const attestation of input.attestationPaths) files.push({ path: `${packageFolders.certification}/${basename(attestation)}`, source: attestation, role: "certification" });
  if (input.publicKeyPath) files.push({ path: publicKeyFileName, source: input.publicKeyPath, role: "public-key" });
  return files;
}

function servedModel(input: PackageInput, options: PackageOptions, location: { modelDir: string; certificationDir: string; publicKeyPath: string; host: string }): ServedModel {
  return {
    name: servedNameOf(input, options.name),
    version: servedVersionOf(input, options.version),
    modelDir: location.modelDir,
    certificationDir: location.certificationDir,
    artifactName: input.artifactName,
    port: options.port ?? defaultServePort,
    host: location.host,
    threads: options.threads ?? 1,
    ...(input.publicKeyPath ? { publicKeyPath: location.publicKeyPath } : {}),
  };
}

async function planTarget(input: PackageInput, options: PackageOptions, checkedBundle: MobileBundleManifest | undefined, edgeforgeTarball: string | undefined): Promise<{ files: PlannedFile[]; model?: ServedModel; bundle?: MobileBundleManifest }> {
  const version = options.edgeforgeVersion;
  switch (options.target) {
    case "docker":
    case "k8s": {
      const model = servedModel(input, options, { modelDir: imagePaths.model, certificationDir: imagePaths.certification, publicKeyPath: imagePaths.publicKey, host: "0.0.0.0" });
      const sizing = sizeDeployment(input.certification, model.threads);
      const tarball = `vendor/${basename(edgeforgeTarball as string)}`;
      const imageTag = `edgeforge-${model.name}:${model.version}`;
      const context = { input, model, sizing, edgeforgeVersion: version };
      const files: PlannedFile[] = [
        { path: "Dockerfile", text: renderDockerfile({ baseImage: options.baseImage ?? defaultBaseImage, edgeforgeVersion: version, model, hasPublicKey: input.publicKeyPath !== undefined, vendoredTarball: tarball }), role: "generated" },
        { path: ".dockerignore", text: renderDockerignore(input.publicKeyPath !== undefined, ["vendor/"]), role: "generated" },
        { path: tarball, source: edgeforgeTarball as string, role: "runtime" },
      ];
      if (options.target === "docker") {
        files.push({ path: "README.md", text: renderDockerReadme(context, imageTag, tarball, options.edgeforgeTarball !== undefined), role: "generated" });
        return { files, model };
      }
      const manifests = renderK8sManifests({
        model,
        sizing,
        certification: input.certification,
        image: options.image ?? imageTag,
        replicas: options.replicas ?? 2,
        maxReplicas: options.maxReplicas ?? 10,
        drainMs: options.drainMs ?? 10_000,
        prometheusAddress: options.prometheusAddress ?? defaultPrometheusAddress,
        artifactSha256: input.contents.digest,
      });
      for (const [name, text] of Object.entries(manifests)) files.push({ path: `k8s/${name}`, text, role: "generated" });
      files.push({ path: "README.md", text: renderK8sReadme(context, options.image ?? imageTag, Object.keys(manifests)), role: "generated" });
      return { files, model };
    }
    case "systemd": {
      const installDir = options.installDir ?? `/opt/edgeforge/${servedNameOf(input, options.name)}`;
      const model = servedModel(input, options, { modelDir: `${installDir}/${packageFolders.model}`, certificationDir: `${installDir}/${packageFolders.certification}`, publicKeyPath: `${installDir}/${publicKeyFileName}`, host: "127.0.0.1" });
      const sizing = sizeDeployment(input.certification, model.threads);
      const unitName = systemdUnitName(model);
      const edgeforgeBin = options.edgeforgeBin ?? defaultEdgeforgeBin;
      const tarball = `vendor/${basename(edgeforgeTarball as string)}`;
      return {
        model,
        files: [
          { path: unitName, text: renderSystemdUnit({ model, sizing, installDir, edgeforgeBin, drainMs: options.drainMs ?? 10_000, edgeforgeVersion: version }), role: "generated" },
          { path: "README.md", text: renderSystemdReadme({ input, model, sizing, edgeforgeVersion: version }, unitName, installDir, edgeforgeBin, tarball), role: "generated" },
          { path: tarball, source: edgeforgeTarball as string, role: "runtime" },
        ],
      };
    }
    case "android":
    case "ios":
    case "bundle": {
      const bundle = withCertification(checkedBundle as MobileBundleManifest, input.certification);
      const files: PlannedFile[] = [
        { path: "bundle-manifest.json", text: `${JSON.stringify(bundle, null, 2)}\n`, role: "generated" },
        { path: "README.md", text: renderMobileReadme({ input, edgeforgeVersion: version }, bundle), role: "generated" },
      ];
      if (bundle.onnxOperators) files.push({ path: "required_operators.config", text: renderOrtOperatorConfig(bundle.onnxOperators, input.artifactName), role: "generated" });
      return { files, bundle };
    }
    default:
      throw new EdgeforgeError("INVALID_OPTION", `--target ${options.target} is not one of ${packageTargets.join(", ")}`, { hint: "see `edgeforge package --help`" });
  }
}

/**
 * `edgeforge package`: the certified artifact, its signature and certification, and what the target
 * needs to run it (Dockerfile, systemd unit, Kubernetes manifests, mobile bundle manifest), with an
 * operator README. Every check (certificate match, approval, budgets) runs before anything is
 * written; then the output folder is locked and each file is written atomically, the package
 * manifest last.
 */
export async function writePackage(options: PackageOptions): Promise<PackageResult> {
  const artifact = await readArtifactInput(options.artifact, options.signal);
  const isMobile = options.target === "android" || options.target === "ios" || options.target === "bundle";
  // Budgets depend on the artifact alone: a model that cannot fit fails before the certification is read.
  const checkedBundle = isMobile
    ? await buildMobileBundle(artifact, {
        platform: options.target as MobilePlatform,
        ...(options.budgetBytes !== undefined ? { budgetBytes: options.budgetBytes } : {}),
        ...(options.device ? { device: options.device } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
    : undefined;
  const input = await readPackageInput(artifact, options.certification, { ...(options.publicKey ? { publicKey: options.publicKey } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  // Servers install edgeforge from a tarball in the package (it need not be published): --edgeforge-tarball, or one packed now.
  const packDir = !isMobile && options.edgeforgeTarball === undefined ? await mkdtemp(join(tmpdir(), "edgeforge-pack-")) : undefined;
  try {
    const edgeforgeTarball = isMobile ? undefined : options.edgeforgeTarball !== undefined ? resolve(options.edgeforgeTarball) : await packEdgeforge(packDir as string, options.signal);
    const planned = await planTarget(input, options, checkedBundle, edgeforgeTarball);
    return await writePlannedFiles(input, planned, options);
  } finally {
    if (packDir) await rm(packDir, { recursive: true, force: true });
  }
}

async function writePlannedFiles(input: PackageInput, planned: Awaited<ReturnType<typeof planTarget>>, options: PackageOptions): Promise<PackageResult> {
  const dir = resolve(options.output);
  const files = [...carriedFiles(input), ...planned.files];
  await using _lock = await claimOutputFolder(dir, `package --target ${options.target}`);
  const written: PackagedFile[] = [];
  for (const file of files) {
    options.signal?.throwIfAborted();
    const destination = join(dir, ...file.path.split("/"));
    if ("text" in file) {
      await writeFileAtomic(destination, file.text, options.signal);
      written.push({ path: file.path, sha256: hashSha256(file.text), sizeBytes: Buffer.byteLength(file.text), role: file.role });
    } else {
      await copyFileAtomic(file.source, destination, options.signal);
      // the copy is hashed again: the package lists the bytes it holds, not the ones it meant to copy
      const sha256 = await hashFileSha256(destination, options.signal);
      if (file.sha256 !== undefined && sha256 !== file.sha256) {
        throw new EdgeforgeError("SIGNED_FILE_CHANGED", `${file.source} changed while it was copied into the package (sha256 ${sha256} ≠ ${file.sha256})`, { hint: "package again once nothing writes to the artifact" });
      }
      written.push({ path: file.path, sha256, sizeBytes: (await stat(destination)).size, role: file.role });
    }
    options.logger?.debug(`wrote ${file.path}`);
  }
  const model = planned.model;
  const result: PackageResult = {
    schemaVersion: 1,
    kind: "edgeforge.package",
    target: options.target,
    dir,
    model: { name: model?.name ?? servedNameOf(input, options.name), version: model?.version ?? servedVersionOf(input, options.version), artifact: input.artifactName, format: input.format, sha256: input.contents.digest },
    files: written,
    ...(planned.bundle ? { bundle: planned.bundle } : {}),
    createdAt: new Date().toISOString(),
    edgeforgeVersion: options.edgeforgeVersion,
  };
  await writeFileAtomic(join(dir, packageManifestName), `${JSON.stringify({ ...result, bundle: undefined }, null, 2)}\n`, options.signal);
  return result;
}
