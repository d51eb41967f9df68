import { mobileConfigurations, type MobilePlatform } from "../deploy/mobile-bundle.js";
import { writePackage, type PackageOptions, type PackageResult } from "../deploy/write-package.js";
import { getTarget } from "./hardware.js";
import { version } from "./version.js";

export { packageTargets, type PackageResult, type PackageTarget, type PackagedFile } from "../deploy/write-package.js";
export { defaultBaseImage } from "../deploy/docker-files.js";
export { mobileConfigurations, type MobileBundleManifest, type BundleCheck } from "../deploy/mobile-bundle.js";

/** The deploy layer's options, with the key as a file path and the device as a target-profile name. */
export interface PackageApiOptions extends Omit<PackageOptions, "edgeforgeVersion" | "publicKey" | "device" | "drainMs"> {
  /** Public key PEM: verify the signature now, ship the key, and serve only after verifying it. */
  key?: string;
  /** Mobile targets: the device profile whose memory budget the expected RAM is checked against (default per platform; "none" skips). */
  device?: string;
}

/** Package a certified artifact for a deployment target (docs/package.md). */
export async function packageArtifact(options: PackageApiOptions): Promise<PackageResult> {
  const isMobile = options.target === "android" || options.target === "ios" || options.target === "bundle";
  const deviceName = options.device ?? (isMobile ? mobileConfigurations[options.target as MobilePlatform].defaultDevice : undefined);
  const device = deviceName && deviceName !== "none" ? await getTarget(deviceName, options.signal ? { signal: options.signal } : {}) : undefined;
  const { key, device: _deviceName, ...rest } = options;
  return writePackage({
    ...rest,
    edgeforgeVersion: version,
    ...(key ? { publicKey: key } : {}),
    ...(device ? { device } : {}),
  });
}
