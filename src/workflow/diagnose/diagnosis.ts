import type { BaselineBlocks } from "../baseline-blocks.js";

/** What `edgeforge diagnose` concludes: each finding names the measured data it rests on. */
export type Severity = "error" | "warning" | "info";

export interface Finding {
  /** Stable rule id, e.g. "latency.no-speedup". */
  rule: string;
  severity: Severity;
  /** The candidate it concerns, or "run" for the whole run. */
  subject: string;
  /** What was measured, with numbers. */
  observation: string;
  causes: string[];
  actions: string[];
}

/** One row of the per-framework troubleshooting table. */
export interface TroubleshootingEntry {
  framework: string;
  symptom: string;
  causes: string[];
  actions: string[];
}

export interface Diagnosis {
  schemaVersion: 1;
  kind: "edgeforge.diagnosis";
  source: string;
  /** Most severe first. */
  findings: Finding[];
  /** Rows of the troubleshooting table for the frameworks this run used. */
  troubleshooting: TroubleshootingEntry[];
}

/** A measured candidate as the rules see it, whether it came from an optimize report or a bench record. */
export interface DiagnosisSubject {
  id: string;
  label: string;
  isBaseline: boolean;
  status: "measured" | "failed" | "unmeasured";
  error?: { code: string; message: string };
  metrics: Record<string, number>;
  /** Threads asked for. */
  threads?: number;
  requestedProvider?: string;
  /** The provider that actually ran. */
  actualProvider?: string;
  runtime: string;
  /** Pass ids applied, in order. */
  passIds: string[];
  /** Measured with the runtime's memory-saving settings (ONNX Runtime: CPU arena or memory pattern off). */
  memorySaving?: boolean;
  /** Everything but the thread count that defines the candidate (passes with options, runtime settings): candidates with equal keys differ only in threads. */
  setupKey: string;
  /** Stability flags from the harness (high-cv, drift, not-converged). */
  flags: string[];
  /** The input model at default settings over the blocks of this candidate's measuring window. */
  baselineBlocks?: BaselineBlocks;
}

export interface DiagnosisInput {
  source: string;
  subjects: DiagnosisSubject[];
  baselineId?: string;
  machine: { logicalThreads: number; physicalCores?: number; cpu: string };
  /** Gate results of the judged candidate that failed, in words. */
  /** `measured`: whether the judged candidate has a value for the gate's metric at all. */
  failedGates: { gate: string; metric: string; measured: boolean; text: string }[];
  frameworks: string[];
}
