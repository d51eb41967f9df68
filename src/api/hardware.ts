import { detectHardware as detectHostHardware } from "../hardware/detect-hardware.js";
import type { HardwareReport } from "../hardware/hardware-report.js";
import { listTargetProfiles, loadTargetProfile } from "../hardware/load-target-profile.js";
import { modelKinds, recommendFrameworks, type ModelKind, type RankedFramework } from "../hardware/recommend-frameworks.js";
import type { RuntimeAvailability } from "../hardware/runtime-availability.js";
import { targetFromHardware } from "../hardware/target-from-hardware.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { findInstalledRuntimes, probeRuntimes, summarizeRuntimeAvailability } from "../runtimes/probe-runtimes.js";
import type { RuntimeProbe } from "../runtimes/runtime-probe.js";
import { version } from "./version.js";

/** The `hw --json` record. Versioned: fields are only added within a schemaVersion. */
export interface HardwareAssessment {
  schemaVersion: 1;
  edgeforgeVersion: string;
  /** ISO 8601 time of the assessment. */
  assessedAt: string;
  target: TargetProfile;
  /** What was detected on this machine; null when the target is a named profile. */
  hardware: HardwareReport | null;
  /** Runtime probes (a tiny model actually run per backend); null when not probed. */
  runtimes: RuntimeProbe[] | null;
  /** Installed runtimes as the decision tree saw them. */
  availableRuntimes: RuntimeAvailability[];
  /** Ranked frameworks for each kind of model. */
  recommendations: Record<ModelKind, RankedFramework[]>;
}

export interface DetectHardwareOptions {
  /** Load each runtime in a child process and run a tiny model on every backend (default true, ~1–3 s). */
  probeRuntimes?: boolean;
  signal?: AbortSignal;
  /** Clock for `assessedAt` (tests). */
  now?: () => Date;
}

function recommendAll(target: TargetProfile, availableRuntimes: readonly RuntimeAvailability[]): Record<ModelKind, RankedFramework[]> {
  return Object.fromEntries(
    modelKinds.map((modelKind) => [modelKind, recommendFrameworks(target, { modelKind, availableRuntimes })]),
  ) as Record<ModelKind, RankedFramework[]>;
}

/** Assess this machine: hardware, the runtimes that really work here, and the frameworks to use. */
export async function detectHardware(options: DetectHardwareOptions = {}): Promise<HardwareAssessment> {
  const shouldProbe = options.probeRuntimes ?? true;
  const signalOption = options.signal ? { signal: options.signal } : {};
  const [hardware, runtimes] = await Promise.all([
    detectHostHardware(signalOption),
    shouldProbe ? probeRuntimes(signalOption) : Promise.resolve(null),
  ]);
  const availableRuntimes = runtimes ? summarizeRuntimeAvailability(runtimes) : await findInstalledRuntimes();
  const target = targetFromHardware(hardware);
  return {
    schemaVersion: 1,
    edgeforgeVersion: version,
    assessedAt: (options.now ?? (() => new Date()))().toISOString(),
    target,
    hardware,
    runtimes,
    availableRuntimes,
    recommendations: recommendAll(target, availableRuntimes),
  };
}

/** A target by name: "local" is this machine as detected (no runtime is loaded), anything else a shipped profile. */
export async function getTarget(name: string, options: { signal?: AbortSignal } = {}): Promise<TargetProfile> {
  if (name === "local") return targetFromHardware(await detectHostHardware(options));
  return loadTargetProfile(name);
}

/** Every shipped target profile, validated. */
export function listTargets(): Promise<TargetProfile[]> {
  return listTargetProfiles();
}

/**
 * Assess a named target from here: its profile and the frameworks to use for it, given the
 * runtime packages installed with edgeforge (found without loading them). "local" = `detectHardware`.
 */
export async function assessTarget(name: string, options: DetectHardwareOptions = {}): Promise<HardwareAssessment> {
  if (name === "local") return detectHardware(options);
  const target = await loadTargetProfile(name);
  const availableRuntimes = await findInstalledRuntimes();
  return {
    schemaVersion: 1,
    edgeforgeVersion: version,
    assessedAt: (options.now ?? (() => new Date()))().toISOString(),
    target,
    hardware: null,
    runtimes: null,
    availableRuntimes,
    recommendations: recommendAll(target, availableRuntimes),
  };
}

export { recommendFrameworks, modelKinds, type ModelKind, type RankedFramework, type RecommendFrameworksOptions } from "../hardware/recommend-frameworks.js";
export { assessFit, type FitAssessment, type FitOption } from "../hardware/assess-fit.js";
export type { TargetProfile, Framework } from "../hardware/target-profile.js";
export type { HardwareReport } from "../hardware/hardware-report.js";
export type { RuntimeAvailability } from "../hardware/runtime-availability.js";
export type { RuntimeProbe, BackendProbe } from "../runtimes/runtime-probe.js";
