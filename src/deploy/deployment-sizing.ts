import { measuredPeakRssBytes, type CertificationFacts } from "./certification-facts.js";

const mebibyte = 1024 * 1024;

/**
 * The `edgeforge serve` front process (HTTP, queues, metrics) beside the model's worker process:
 * not part of what certify measured, so added as an allowance (an estimate).
 */
export const serverProcessAllowanceBytes = 128 * mebibyte;
/** Limit over request: room for bursts before the kernel's OOM killer (memory) or CFS throttling (CPU) acts. */
export const memoryLimitFactor = 1.5;
export const cpuLimitFactor = 1.5;
/** CPU for the server process itself (routing, copying, metrics), beside the model's compute: an estimate. */
export const serverProcessCpu = 0.25;

export interface DeploymentSizing {
  memoryRequestBytes: number;
  memoryLimitBytes: number;
  /** Cores (fractional). */
  cpuRequest: number;
  cpuLimit: number;
  /** "measured": from certify's CPU time per request; "estimate": from the thread count (certifications without CPU time). */
  cpuSource: "measured" | "estimate";
  threads: number;
  /** Requests per second one replica sustained at the expected concurrency in certify's stress sweep. */
  throughputPerReplica: number;
  method: string;
}

const roundUpMiB = (bytes: number): number => Math.ceil(bytes / mebibyte) * mebibyte;
/** Kubernetes accepts millicores: round up to 10 of them. */
const roundUpCores = (cores: number): number => Math.ceil(cores * 100 - 1e-9) / 100;

/**
 * Resource figures for one replica from the certification: memory from the peak resident memory the
 * stress sweep measured (model loaded, under load) plus the server-process allowance; CPU from the
 * CPU time per request the sweep measured at the certified throughput, plus the server-process
 * allowance. Certifications written before certify recorded CPU time fall back to the compute
 * threads, labelled as an estimate.
 */
export function sizeDeployment(facts: CertificationFacts, threads: number): DeploymentSizing {
  const peakRss = measuredPeakRssBytes(facts);
  const memoryRequestBytes = roundUpMiB(peakRss + serverProcessAllowanceBytes);
  const atExpected = [...facts.stress.levels].reverse().find((l) => l.concurrency <= facts.monitoring.expectedConcurrency) ?? facts.stress.levels[0];
  const memoryMethod =
    `memory request = peak RSS measured by certify's stress sweep (${(peakRss / mebibyte).toFixed(0)} MiB on ${facts.machine.cpu}, ${facts.machine.logicalThreads} threads) ` +
    `+ ${serverProcessAllowanceBytes / mebibyte} MiB allowance for the serve front process (estimate), limit = ${memoryLimitFactor}× request`;
  const throughputPerReplica = atExpected?.throughputPerSec ?? 0;
  const measured = facts.stress.levels.every((l) => l.cpuMsPerRequest !== undefined && l.cpuCores !== undefined);
  if (measured && atExpected) {
    const cpuMsPerRequest = atExpected.cpuMsPerRequest as number;
    const atThroughput = (cpuMsPerRequest * atExpected.throughputPerSec) / 1000;
    const peak = Math.max(...facts.stress.levels.map((l) => l.cpuCores as number));
    const cpuRequest = roundUpCores(atThroughput + serverProcessCpu);
    const cpuLimit = Math.max(cpuRequest, roundUpCores((peak + serverProcessCpu) * cpuLimitFactor));
    return {
      memoryRequestBytes,
      memoryLimitBytes: roundUpMiB(memoryRequestBytes * memoryLimitFactor),
      cpuRequest,
      cpuLimit,
      cpuSource: "measured",
      threads,
      throughputPerReplica,
      method:
        `${memoryMethod}; CPU request = CPU time per request measured by certify's stress sweep (process.cpuUsage(), user + system, all threads of the certifying process: ` +
        `${cpuMsPerRequest.toFixed(2)} ms at ${atExpected.concurrency} in flight) × the throughput certified there (${atExpected.throughputPerSec.toFixed(1)} requests/s) = ${atThroughput.toFixed(2)} cores, ` +
        `+ ${serverProcessCpu} core for the serve front process (estimate); limit = ${cpuLimitFactor}× (the most cores any stress level kept busy, ${peak.toFixed(2)}, + ${serverProcessCpu}). ` +
        `Measured at the certified runtime settings on ${facts.machine.cpu}: another CPU, or other --threads than certified, needs other figures`,
    };
  }
  return {
    memoryRequestBytes,
    memoryLimitBytes: roundUpMiB(memoryRequestBytes * memoryLimitFactor),
    cpuRequest: threads + serverProcessCpu,
    cpuLimit: threads + 1,
    cpuSource: "estimate",
    threads,
    throughputPerReplica,
    method: `${memoryMethod}; CPU request = ${threads} compute thread(s) + ${serverProcessCpu} core for the front process, limit = threads + 1: an estimate, because this certification records no CPU time (certify it again to size CPU from a measurement)`,
  };
}

/** Kubernetes quantity strings. */
export function memoryQuantity(bytes: number): string {
  return `${Math.ceil(bytes / mebibyte)}Mi`;
}

export function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}
