import type { Reporter } from "../core/logger.js";
import { mobileConfigurations, type MobilePlatform } from "../deploy/mobile-bundle.js";
import { writePackage, type PackageResult, type PackageTarget } from "../deploy/write-package.js";
import { getTarget } from "./hardware.js";
import { version } from "./version.js";

export { packageTargets, type PackageResult, type PackageTarget, type PackagedFile } from "../deploy/write-package.js";
export { mobileConfigurations, type MobileBundleManifest, type BundleCheck } from "../deploy/mobile-bundle.js";

export interface PackageApiOptions extends Reporter {
  /** The certified artifact (file or folder). */
  artifact: string;
  /** The folder `edgeforge certify` wrote for it. */
  certification: string;
  target: PackageTarget;
  output: string;
  /** Public key PEM: verify the signature now, ship the key, and serve only after verifying it. */
  key?: string;
  /** Served model name (default: the artifact's file name) and version (default: the registry version, else the digest's first 12 hex digits). */
  name?: string;
  version?: string;
  threads?: number;
  port?: number;
  /** Mobile targets: a size budget in bytes instead of the workflow's (android 100 MB, ios 50 MB). */
  budgetBytes?: number;
  /** Mobile targets: the device profile whose memory budget the expected RAM is checked against (default per platform; "none" skips). */
  device?: string;
  contextLength?: number;
  baseImage?: string;
  edgeforgeTarball?: string;
  /** k8s: the image the Deployment runs (default edgeforge-NAME:VERSION, built from the package's Dockerfile). */
  image?: string;
  replicas?: number;
  maxReplicas?: number;
  /** k8s: Prometheus for the Argo Rollouts analysis (default the kube-prometheus-stack service). */
  prometheusAddress?: string;
  installDir?: string;
  edgeforgeBin?: string;
}

/** Package a certified artifact for a deployment target (docs/package.md). */
export async function packageArtifact(options: PackageApiOptions): Promise<PackageResult> {
  const isMobile = options.target === "android" || options.target === "ios" || options.target === "bundle";
  const deviceName = options.device ?? (isMobile ? mobileConfigurations[options.target as MobilePlatform].defaultDevice : undefined);
  const device = deviceName && deviceName !== "none" ? await getTarget(deviceName, options.signal ? { signal: options.signal } : {}) : undefined;
  return writePackage({
    artifact: options.artifact,
    certification: options.certification,
    target: options.target,
    output: options.output,
    edgeforgeVersion: version,
    ...(options.key ? { publicKey: options.key } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.version ? { version: options.version } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.budgetBytes !== undefined ? { budgetBytes: options.budgetBytes } : {}),
    ...(device ? { device } : {}),
    ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}),
    ...(options.baseImage ? { baseImage: options.baseImage } : {}),
    ...(options.edgeforgeTarball ? { edgeforgeTarball: options.edgeforgeTarball } : {}),
    ...(options.image ? { image: options.image } : {}),
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.maxReplicas !== undefined ? { maxReplicas: options.maxReplicas } : {}),
    ...(options.prometheusAddress ? { prometheusAddress: options.prometheusAddress } : {}),
    ...(options.installDir ? { installDir: options.installDir } : {}),
    ...(options.edgeforgeBin ? { edgeforgeBin: options.edgeforgeBin } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
