import { readdir, readFile } from "node:fs/promises";
import { EdgeforgeError } from "../core/errors.js";
import { spawnCapture } from "../core/spawn-capture.js";

/*
 * Why measuring processes are pinned: on a 2-vCPU VM one vCPU ran the same 1-thread Silero VAD session
 * 1.65× slower than the other for minutes at a time (0.23 vs 0.14 ms, host contention invisible to the
 * guest: no steal time, no other process). A long-lived arm stays on the vCPU it last ran on, so two arms
 * on different vCPUs gave a tight but false ratio (1.66×), and fresh processes a bimodal one (docs/decide.md,
 * "VAD's 1.66×: arms on vCPUs of different speed"). Arms compared in one round therefore run on the same CPUs,
 * rotating from round to round.
 */

/** "0-2,5" → [0, 1, 2, 5] (the kernel's cpu-list format). */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const [from, to] = part.split("-").map(Number);
    if (from === undefined || !Number.isInteger(from) || (to !== undefined && !Number.isInteger(to))) {
      throw new EdgeforgeError("INVALID_OPTION", `"${text}" is not a CPU list`, { hint: "write CPUs as in /proc: 0-3,6", details: { text } });
    }
    for (let cpu = from; cpu <= (to ?? from); cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] → "0-2,5". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j += 1;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The CPUs an arm with `threads` compute threads (all allowed CPUs when unset) runs on in `round`: as many
 * consecutive allowed CPUs as it has threads, starting one further each round. Arms with the same thread
 * count get the same CPUs in a round (their ratio compares like with like); across rounds every CPU serves.
 */
export function planRoundCpus(allowed: readonly number[], threads: number | undefined, round: number): number[] {
  if (allowed.length === 0) return [];
  const count = Math.min(threads ?? allowed.length, allowed.length);
  const start = round % allowed.length;
  return Array.from({ length: count }, (_, i) => allowed[(start + i) % allowed.length] as number).sort((a, b) => a - b);
}

/** The cpu-list a /proc status file gives as Cpus_allowed_list, if any. */
function allowedListIn(status: string): string | undefined {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
}

/** The CPUs this process may run on, as /proc lists them; undefined where /proc is absent. */
async function readAllowedCpuList(): Promise<string | undefined> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => undefined);
  return status === undefined ? undefined : allowedListIn(status);
}

/** Whether `taskset` runs here; the reason when it does not. */
async function probeTaskset(signal?: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string }> {
  const probe = await spawnCapture("taskset", ["-p", String(process.pid)], { timeoutMs: 5000, ...(signal ? { signal } : {}) });
  return probe.ok ? { ok: true } : { ok: false, reason: probe.reason };
}

/**
 * The CPUs this process may run on, when it can pin processes: Linux (/proc) with `taskset` (util-linux)
 * installed and more than one CPU allowed. Otherwise undefined: measure unpinned and say so.
 */
export async function readPinnableCpus(signal?: AbortSignal): Promise<number[] | undefined> {
  const line = await readAllowedCpuList();
  if (!line) return undefined;
  const allowed = parseCpuList(line);
  if (allowed.length < 2) return undefined;
  return (await probeTaskset(signal)).ok ? allowed : undefined;
}

/**
 * Check CPUs a caller asked to pin measurements to (`edgeforge bench --cpus`) before any child starts: each must be
 * one this process may run on, and `taskset` must be there to pin with. Throws INVALID_OPTION naming the allowed ones.
 */
export async function checkCpusToPin(cpus: readonly number[], signal?: AbortSignal): Promise<void> {
  if (cpus.length === 0) throw new EdgeforgeError("INVALID_OPTION", "an empty CPU list to pin to", { hint: "give CPUs as in /proc, e.g. --cpus 0 or --cpus 0-1" });
  const line = await readAllowedCpuList();
  if (line === undefined) {
    throw new EdgeforgeError("INVALID_OPTION", "pinning to CPUs needs Linux (/proc) here", { hint: "leave out --cpus on this system", details: { cpus: formatCpuList(cpus) } });
  }
  const allowed = parseCpuList(line);
  const outside = cpus.filter((cpu) => !allowed.includes(cpu));
  if (outside.length > 0) {
    throw new EdgeforgeError("INVALID_OPTION", `CPU${outside.length === 1 ? "" : "s"} ${formatCpuList(outside)} ${outside.length === 1 ? "is" : "are"} not available to this process (allowed: ${line})`, {
      hint: `pick CPUs from ${line}`,
      details: { cpus: formatCpuList(cpus), allowed: line },
    });
  }
  const taskset = await probeTaskset(signal);
  if (!taskset.ok) {
    throw new EdgeforgeError("INVALID_OPTION", `cannot pin to CPUs ${formatCpuList(cpus)}: taskset did not run (${taskset.reason})`, { hint: "install util-linux (taskset), or leave out --cpus", details: { cpus: formatCpuList(cpus) } });
  }
}

/** Pin every thread of a running process (the runtime's worker threads too) to `cpus`. */
export async function writeProcessAffinity(pid: number, cpus: readonly number[], signal?: AbortSignal): Promise<void> {
  const list = formatCpuList(cpus);
  const result = await spawnCapture("taskset", ["-a", "-p", "-c", list, String(pid)], { timeoutMs: 5000, ...(signal ? { signal } : {}) });
  if (!result.ok) {
    throw new EdgeforgeError("MEASUREMENT_FAILED", `could not pin process ${pid} to CPUs ${list}: ${result.reason}`, {
      hint: "install util-linux (taskset), or check that the CPUs are allowed for this process",
      details: { pid, cpus: list },
    });
  }
}

/** The distinct CPU lists the threads of this process may run on (Linux); undefined where /proc is absent. */
export async function readThreadAffinities(): Promise<string[] | undefined> {
  let tids: string[];
  try {
    tids = await readdir("/proc/self/task");
  } catch {
    return undefined;
  }
  const lists = new Set<string>();
  for (const tid of tids) {
    // A thread may exit between the listing and the read: skip it.
    const status = await readFile(`/proc/self/task/${tid}/status`, "utf8").catch(() => "");
    const line = allowedListIn(status);
    if (line) lists.add(line);
  }
  return [...lists].sort();
}

/** Command and arguments that start `command` pinned to `cpus` from its first instruction (every thread it creates inherits it). */
export function pinnedCommand(command: string, args: readonly string[], cpus: readonly number[] | undefined): [string, string[]] {
  return cpus && cpus.length > 0 ? ["taskset", ["-c", formatCpuList(cpus), command, ...args]] : [command, [...args]];
}
