import { measuredPeakRssBytes, type CertificationFacts } from "./certification-facts.js";

const mebibyte = 1024 * 1024;

/**
 * The `edgeforge serve` front process (HTTP, queues, metrics) beside the model's worker process:
 * not part of what certify measured, so added as an allowance (an estimate).
 */
export const serverProcessAllowanceBytes = 128 * mebibyte;
/** Limit over request: room for bursts before the kernel's OOM killer or the kubelet acts. */
export const memoryLimitFactor = 1.5;
/** CPU for the server process itself (routing, copying, metrics), beside the compute threads. */
export const serverProcessCpu = 0.25;

export interface DeploymentSizing {
  memoryRequestBytes: number;
  memoryLimitBytes: number;
  /** Cores (fractional). */
  cpuRequest: number;
  cpuLimit: number;
  threads: number;
  /** Requests per second one replica sustained at the expected concurrency in certify's stress sweep. */
  throughputPerReplica: number;
  method: string;
}

const roundUpMiB = (bytes: number): number => Math.ceil(bytes / mebibyte) * mebibyte;

/**
 * Resource figures for one replica from the certification: memory from the peak resident memory the
 * stress sweep measured (model loaded, under load) plus the server-process allowance; CPU from the
 * compute threads, because certify records latency and throughput but no CPU time.
 */
export function sizeDeployment(facts: CertificationFacts, threads: number): DeploymentSizing {
  const peakRss = measuredPeakRssBytes(facts);
  const memoryRequestBytes = roundUpMiB(peakRss + serverProcessAllowanceBytes);
  const atExpected = [...facts.stress.levels].reverse().find((l) => l.concurrency <= facts.monitoring.expectedConcurrency) ?? facts.stress.levels[0];
  const cpuRequest = threads + serverProcessCpu;
  return {
    memoryRequestBytes,
    memoryLimitBytes: roundUpMiB(memoryRequestBytes * memoryLimitFactor),
    cpuRequest,
    cpuLimit: threads + 1,
    threads,
    throughputPerReplica: atExpected?.throughputPerSec ?? 0,
    method:
      `memory request = peak RSS measured by certify's stress sweep (${(peakRss / mebibyte).toFixed(0)} MiB on ${facts.machine.cpu}, ${facts.machine.logicalThreads} threads) ` +
      `+ ${serverProcessAllowanceBytes / mebibyte} MiB allowance for the serve front process (estimate), limit = ${memoryLimitFactor}× request; ` +
      `CPU request = ${threads} compute thread(s) + ${serverProcessCpu} core for the front process (certify records no CPU time), limit = threads + 1`,
  };
}

/** Kubernetes quantity strings. */
export function memoryQuantity(bytes: number): string {
  return `${Math.ceil(bytes / mebibyte)}Mi`;
}

export function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}
