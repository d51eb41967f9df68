import type { Session } from "../../core/session.js";
import type { NamedTensors } from "../../core/tensor.js";
import { describeSamples } from "../../stats/describe-samples.js";
import { isTokenSession, type ProbeSet } from "./session-probes.js";

export interface StressLevel {
  concurrency: number;
  durationMs: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  throughputPerSec: number;
  /** Resident memory of the certifying process at the end of the level. */
  rssEndBytes: number;
  /** CPU time (user + system, all threads) the certifying process spent during the level (process.cpuUsage()). */
  cpuMs: number;
  /** cpuMs over the completed requests. */
  cpuMsPerRequest: number;
  /** cpuMs over the level's wall time: cores kept busy at this load. */
  cpuCores: number;
}

export interface StressSection {
  method: string;
  levels: StressLevel[];
  expectedConcurrency: number;
  p99BudgetMs: number;
  p99BudgetSource: string;
  /** p99 at the expected load (the nearest measured level at or below it). */
  p99AtExpectedMs: number;
  rssGrowthBytes: number;
  maxRssGrowthBytes: number;
}

/** Levels 1, 2, 4 … up to `max` (max itself included). */
export function concurrencyLevels(max: number): number[] {
  const levels: number[] = [];
  for (let level = 1; level < max; level *= 2) levels.push(level);
  levels.push(max);
  return levels;
}

/**
 * A concurrency sweep on one loaded session: at each level, that many requests stay in flight for a
 * fixed time, cycling through the probe inputs. Latency is per request from submission to result,
 * queueing included. llama.cpp runs one sequence at a time on a context and node-mlx one synchronous
 * forward pass at a time, so their requests queue in order (what a single-context server does);
 * ONNX Runtime runs them concurrently.
 */
export async function runStress(session: Session, probes: ProbeSet, options: { maxConcurrency: number; durationMs: number; expectedConcurrency: number; p99BudgetMs: number; p99BudgetSource: string; maxRssGrowthBytes: number; signal?: AbortSignal }): Promise<StressSection> {
  const serialize = isTokenSession(session);
  const runtime = session.describe().runtime;
  let queue: Promise<unknown> = Promise.resolve();
  const runOne = (inputs: NamedTensors): Promise<NamedTensors> => {
    if (!serialize) return session.run(inputs);
    const next = queue.then(() => session.run(inputs));
    queue = next.catch(() => undefined);
    return next;
  };
  const levels: StressLevel[] = [];
  for (const concurrency of concurrencyLevels(options.maxConcurrency)) {
    const latenciesMs: number[] = [];
    let errors = 0;
    let cursor = 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const deadline = started + options.durationMs;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        options.signal?.throwIfAborted();
        const inputs = probes.inputs[cursor++ % probes.inputs.length] as NamedTensors;
        const t0 = performance.now();
        try {
          await runOne(inputs);
          latenciesMs.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const stats = describeSamples(latenciesMs.length > 0 ? latenciesMs : [Number.NaN]);
    levels.push({ concurrency, durationMs: elapsedMs, requests: latenciesMs.length, errors, p50Ms: stats.p50, p95Ms: stats.p95, p99Ms: stats.p99, throughputPerSec: (latenciesMs.length * 1000) / elapsedMs, rssEndBytes: process.memoryUsage().rss, cpuMs, cpuMsPerRequest: latenciesMs.length > 0 ? cpuMs / latenciesMs.length : 0, cpuCores: cpuMs / elapsedMs });
  }
  const atExpected = [...levels].reverse().find((level) => level.concurrency <= options.expectedConcurrency) ?? (levels[0] as StressLevel);
  const first = levels[0] as StressLevel;
  const last = levels[levels.length - 1] as StressLevel;
  return {
    method: `in-process sweep on one loaded session: ${levels.map((l) => l.concurrency).join(", ")} requests in flight, ${options.durationMs} ms each, inputs cycled from the probe set; CPU time per level from process.cpuUsage() (user + system, every thread of the certifying process, the runtime's included); ${serialize ? `${runtime === "mlx" ? "MLX (node-mlx, one synchronous forward pass at a time)" : "llama.cpp (one context)"}: requests queue, one sequence at a time` : "ONNX Runtime runs requests concurrently"}`,
    levels,
    expectedConcurrency: options.expectedConcurrency,
    p99BudgetMs: options.p99BudgetMs,
    p99BudgetSource: options.p99BudgetSource,
    p99AtExpectedMs: atExpected.p99Ms,
    rssGrowthBytes: last.rssEndBytes - first.rssEndBytes,
    maxRssGrowthBytes: options.maxRssGrowthBytes,
  };
}
