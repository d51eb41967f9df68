import type { Command } from "commander";
import {
  assessTarget,
  detectHardware,
  listTargets,
  modelKinds,
  type HardwareAssessment,
  type HardwareReport,
  type RuntimeProbe,
  type TargetProfile,
} from "../../api/index.js";
import { formatBytes, formatMs } from "../../core/units.js";
import { printHuman, printJson } from "../output.js";

interface HwFlags {
  target?: string;
  listTargets?: boolean;
  json?: boolean;
  probe: boolean;
}

const labelWidth = 14;
const maxReasonChars = 110;

function row(label: string, value: string, indent = ""): string {
  return `${indent}${label.padEnd(labelWidth - indent.length)}${value}`;
}

function shorten(text: string): string {
  return text.length > maxReasonChars ? `${text.slice(0, maxReasonChars - 1)}…` : text;
}

function renderHardware(hardware: HardwareReport): string[] {
  const { os, cpu, memory } = hardware;
  const lines = [
    row("OS", `${os.distro} · ${os.platform} ${os.release}${os.machineModel === "unknown" ? "" : ` · ${os.machineModel}`}`),
    row("CPU", `${cpu.model} · ${cpu.architecture} · vendor ${cpu.vendor}`),
    row(
      "cores",
      `${cpu.physicalCores} physical · ${cpu.logicalThreads} logical · ${cpu.availableThreads} usable by this process` +
        (cpu.cgroupCpuQuota !== undefined ? ` · cgroup quota ${cpu.cgroupCpuQuota} CPUs` : ""),
      "  ",
    ),
    row("features", cpu.featureSource === "unknown" ? "unknown" : cpu.features.join(" ") || "none of the tracked SIMD features", "  "),
    row(
      "caches",
      cpu.caches
        .map((cache) => {
          const name = `L${cache.level}${cache.type === "data" ? "d" : cache.type === "instruction" ? "i" : ""}`;
          return `${name} ${formatBytes(cache.sizeBytes)}${cache.sharedByThreads && cache.sharedByThreads > 1 ? ` (shared by ${cache.sharedByThreads})` : ""}`;
        })
        .join(" · ") || "unknown",
      "  ",
    ),
    row(
      "Memory",
      `${formatBytes(memory.totalMemoryBytes)} total · ${formatBytes(memory.availableMemoryBytes)} available` +
        (memory.cgroupLimitBytes !== undefined ? ` · cgroup limit ${formatBytes(memory.cgroupLimitBytes)}` : "") +
        ` (${memory.source})`,
    ),
  ];
  lines.push(hardware.gpus.length === 0 ? row("GPUs", "none found") : "GPUs");
  for (const gpu of hardware.gpus) {
    const memoryText = gpu.memoryBytes !== undefined ? formatBytes(gpu.memoryBytes) : gpu.sharesSystemMemory ? "shares system memory" : "memory unknown";
    lines.push(`  ${gpu.name} · ${gpu.vendor} · ${memoryText}${gpu.location ? ` · ${gpu.location}` : ""} (${gpu.source})`);
  }
  lines.push(hardware.npus.length === 0 ? row("NPUs", "none found") : "NPUs");
  for (const npu of hardware.npus) lines.push(`  ${npu.name} · ${npu.vendor}${npu.devicePath ? ` · ${npu.devicePath}` : ""} (${npu.source})`);
  lines.push(hardware.energyCounters.length === 0 ? row("Energy", "no counters found") : "Energy counters");
  for (const counter of hardware.energyCounters) {
    const state = counter.readable
      ? `readable${counter.powerDrawWatts !== undefined ? ` · ${counter.powerDrawWatts} W now` : ""}`
      : `not readable: ${counter.reason ?? "unknown"}`;
    lines.push(`  ${counter.kind} ${counter.name} · ${state}`);
  }
  if (hardware.notes.length > 0) lines.push("Notes", ...hardware.notes.map((note) => `  - ${note}`));
  return lines;
}

function renderTarget(target: TargetProfile): string[] {
  return [
    row("Target", `${target.name} (${target.origin === "detected" ? "detected" : "profile"})`),
    `  ${target.description}`,
    row("OS", `${target.os.platform}${target.os.version ? ` · ${target.os.version}` : ""}`, "  "),
    row("CPU", `${target.cpu.model} · ${target.cpu.arch} · ${target.cpu.cores} cores / ${target.cpu.threads} threads`, "  "),
    row("features", target.cpu.features.join(" ") || "none", "  "),
    row("memory", `${formatBytes(target.memoryBytes)} · budget for one model ${formatBytes(target.memoryBudgetBytes)}`, "  "),
    ...target.accelerators.map((accelerator) =>
      row(
        accelerator.kind.toUpperCase(),
        `${accelerator.name}${accelerator.apis.length > 0 ? ` · ${accelerator.apis.join(", ")}` : ""}` +
          (accelerator.peakInt8Tops !== undefined ? ` · ${accelerator.peakInt8Tops} INT8 TOPS` : ""),
        "  ",
      ),
    ),
    row("prefers", `${target.preferredRuntimes.join(", ")} · formats ${target.preferredFormats.join(", ")}`, "  "),
    ...(target.origin === "profile" ? target.notes.map((note) => `  - ${note}`) : []),
  ];
}

function renderProbes(runtimes: RuntimeProbe[]): string[] {
  const lines = [row("Runtimes", "(each backend tried with a tiny model or build load)")];
  for (const probe of runtimes) {
    if (!probe.installed || probe.backends.length === 0) {
      lines.push(`  ${probe.framework.padEnd(12)} not available: ${probe.reason ?? "unknown"}`);
      continue;
    }
    lines.push(`  ${probe.framework.padEnd(12)} ${probe.version ?? ""} (${probe.packageName})${probe.reason ? ` · ${probe.reason}` : ""}`);
    for (const backend of probe.backends) {
      const status = backend.works ? "works" : "no   ";
      const note = backend.works ? formatMs(backend.durationMs) : shorten(backend.reason ?? "unknown");
      lines.push(`    ${backend.backend.padEnd(10)} ${status}  ${note}`);
    }
  }
  return lines;
}

function renderAssessment(assessment: HardwareAssessment): string {
  const lines: string[] = [];
  if (assessment.hardware) lines.push(...renderHardware(assessment.hardware), "");
  lines.push(...renderTarget(assessment.target), "");
  if (assessment.runtimes) {
    lines.push(...renderProbes(assessment.runtimes), "");
  } else {
    lines.push(row("Runtimes", "installed with edgeforge (not loaded)"));
    for (const runtime of assessment.availableRuntimes) {
      lines.push(`  ${runtime.framework.padEnd(12)} ${runtime.installed ? `installed ${runtime.version ?? ""}` : `not available: ${runtime.reason ?? "not installed"}`}`);
    }
    lines.push("");
  }
  lines.push(row("Recommended", `frameworks for ${assessment.target.name}`));
  for (const modelKind of modelKinds) {
    lines.push(`  ${modelKind}`);
    let rank = 0;
    for (const entry of assessment.recommendations[modelKind]) {
      if (entry.usable) rank += 1;
      const head = `    ${entry.usable ? `${rank}.` : "- "} ${entry.framework.padEnd(12)} ${String(entry.score).padStart(3)}`;
      const why = entry.usable ? entry.reasons.join("; ") : [`unusable: ${entry.unusableReason ?? "unknown"}`, ...entry.reasons].join("; ");
      lines.push(`${head}  ${why}`);
    }
  }
  return lines.join("\n");
}

function renderTargetList(targets: TargetProfile[]): string {
  const nameWidth = Math.max(...targets.map((target) => target.name.length)) + 2;
  const header = `${"name".padEnd(nameWidth)}${"platform".padEnd(18)}${"budget".padEnd(11)}description`;
  const rows = targets.map(
    (target) =>
      `${target.name.padEnd(nameWidth)}${`${target.os.platform}/${target.cpu.arch}`.padEnd(18)}${formatBytes(target.memoryBudgetBytes).padEnd(11)}${target.description}`,
  );
  return [header, ...rows, "", `Also: "local" (this machine, detected).`].join("\n");
}

export function registerHwCommand(program: Command): void {
  program
    .command("hw")
    .description("Assess this machine (or a target profile): CPU features, memory, accelerators, working runtimes, recommended frameworks")
    .option("--target <name>", "describe a target profile instead of this machine ('local' = this machine)")
    .option("--list-targets", "list the shipped target profiles")
    .option("--no-probe", "skip loading runtimes to test their backends (faster)")
    .option("--json", "print the versioned JSON record on stdout")
    .action(async (flags: HwFlags) => {
      if (flags.listTargets) {
        const targets = await listTargets();
        if (flags.json) printJson({ schemaVersion: 1, targets });
        else printHuman(renderTargetList(targets));
        return;
      }
      const options = { probeRuntimes: flags.probe };
      const assessment = flags.target === undefined ? await detectHardware(options) : await assessTarget(flags.target, options);
      if (flags.json) printJson(assessment);
      else printHuman(renderAssessment(assessment));
    });
}
