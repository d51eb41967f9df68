import { detectHardware } from "../hardware/detect-hardware.js";
import type { HardwareReport } from "../hardware/hardware-report.js";
import { loadTargetProfile } from "../hardware/load-target-profile.js";
import type { RuntimeAvailability } from "../hardware/runtime-availability.js";
import { targetFromHardware } from "../hardware/target-from-hardware.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import { detectMlx } from "../runtimes/mlx/detect-mlx.js";
import { probeRuntimes, summarizeRuntimeAvailability } from "../runtimes/probe-runtimes.js";
import type { RuntimeProbe } from "../runtimes/runtime-probe.js";
import { readCpuLoad } from "../bench/read-cpu-load.js";
import type { LocalFacts } from "./plan-types.js";

export interface Environment {
  target: TargetProfile;
  /** The run's override of the target's memory budget (--memory-budget), when given. */
  memoryBudgetOverrideBytes?: number;
  /** This machine, where every candidate is measured. */
  hardware: HardwareReport;
  probes: RuntimeProbe[];
  availability: RuntimeAvailability[];
  local: LocalFacts;
}

/**
 * The target to optimize for (a shipped profile, or this machine) and what this machine can
 * measure with: runtimes and execution providers proven to work by running a tiny model.
 */
export async function assessEnvironment(targetName: string, options: { memoryBudgetBytes?: number; signal?: AbortSignal } = {}): Promise<Environment> {
  const signalOption = options.signal ? { signal: options.signal } : {};
  // A misspelt profile name fails before the slower probes run.
  const named = targetName === "local" ? undefined : await loadTargetProfile(targetName);
  // Load is sampled before the probes start, so their own work is not counted as someone else's.
  const load = await readCpuLoad(500, options.signal);
  const [hardware, probes, mlx] = await Promise.all([detectHardware(signalOption), probeRuntimes(signalOption), detectMlx(options.signal)]);
  const profile = named ?? targetFromHardware(hardware);
  const target: TargetProfile =
    options.memoryBudgetBytes === undefined
      ? profile
      : { ...profile, memoryBudgetBytes: options.memoryBudgetBytes, notes: [...profile.notes, `memory budget set to ${options.memoryBudgetBytes} bytes by the run's memory-budget override (--memory-budget)`] };
  const ort = probes.find((probe) => probe.runtime === "ort");
  return {
    target,
    ...(options.memoryBudgetBytes === undefined ? {} : { memoryBudgetOverrideBytes: options.memoryBudgetBytes }),
    hardware,
    probes,
    availability: summarizeRuntimeAvailability(probes),
    local: {
      availableThreads: hardware.cpu.availableThreads,
      freeCores: Math.min(load.freeCores, hardware.cpu.availableThreads),
      load,
      // The probes' "mlx" is Python MLX (Apple silicon); what measures MLX folders here is node-mlx.
      runtimes: [...probes.filter((probe) => probe.available && probe.runtime !== "mlx").map((probe) => probe.runtime), ...(mlx.available ? ["mlx"] : [])],
      ...(mlx.available ? {} : { mlxUnavailable: mlx.reason ?? "node-mlx is not installed" }),
      ortExecutionProviders: ort?.backends.filter((backend) => backend.works).map((backend) => backend.backend.toLowerCase()) ?? [],
    },
  };
}
