import type { ArmMemory } from "../bench/measure-side-by-side.js";

export interface MemoryComparison {
  candidateBytes: number;
  baselineBytes: number;
  /** What both figures are, in words: one basis for both sides. */
  basis: string;
  /** The arms' own model-memory figures had different bases, so both were replaced by peak RSS over the reference. */
  rebased: boolean;
}

const rssBasis = "peak RSS minus a reference process with the same runtime and settings running a trivial model";

/**
 * The figures memoryReduction divides, on one basis for both sides. Each arm's own figure is used
 * when both came from the same kind of source (both a runtime's allocation report, or both RSS over a
 * reference); when only one runtime reports its allocation (llama.cpp for the input GGUF, nothing for
 * an MLX candidate), both sides fall back to peak RSS over their reference process.
 */
export function compareModelMemory(candidate: ArmMemory, baseline: ArmMemory): MemoryComparison | undefined {
  const candidateReported = candidate.runtimeReported !== undefined;
  if (candidateReported === (baseline.runtimeReported !== undefined)) {
    if (candidate.modelBytes === undefined || baseline.modelBytes === undefined || baseline.modelBytes <= 0) return undefined;
    return { candidateBytes: candidate.modelBytes, baselineBytes: baseline.modelBytes, basis: candidate.modelBytesSource ?? rssBasis, rebased: false };
  }
  const overReference = (arm: ArmMemory): number | undefined => (arm.referencePeakRssBytes === undefined ? undefined : Math.max(0, arm.peakRssBytes - arm.referencePeakRssBytes));
  const candidateBytes = overReference(candidate);
  const baselineBytes = overReference(baseline);
  if (candidateBytes === undefined || baselineBytes === undefined || baselineBytes <= 0) return undefined;
  const reporting = candidateReported ? "the candidate's" : "the input model's";
  return { candidateBytes, baselineBytes, basis: `${rssBasis}, on both sides (only ${reporting} runtime reports its own allocation, so that report is not compared with RSS)`, rebased: true };
}

/** A measured candidate's memory as the report records it (sideBySide.memory). */
export interface RecordedMemory {
  peakRssBytes: number;
  referencePeakRssBytes?: number;
  modelMemoryBytes?: number;
  /** Present when the runtime reported its own allocation (llama.cpp). */
  parts?: readonly unknown[];
}

export interface RankingMemory {
  /** The memory figure each candidate is ranked on; a missing id has none on this basis. */
  bytesById: Map<string, number>;
  basis: string;
}

/**
 * The memory the Pareto frontier compares across candidates, on one basis: undefined when every
 * candidate's own figure already shares one (all runtime reports, or all RSS over a reference);
 * otherwise (GGUF candidates with llama.cpp's report beside MLX candidates with RSS only) peak RSS
 * over each candidate's reference process, for every candidate.
 */
export function rankingMemory(candidates: readonly { id: string; memory?: RecordedMemory }[]): RankingMemory | undefined {
  const kinds = new Set(candidates.filter((c) => c.memory?.modelMemoryBytes !== undefined).map((c) => c.memory?.parts !== undefined));
  if (kinds.size < 2) return undefined;
  const bytesById = new Map<string, number>();
  for (const { id, memory } of candidates) {
    if (memory?.referencePeakRssBytes !== undefined) bytesById.set(id, Math.max(0, memory.peakRssBytes - memory.referencePeakRssBytes));
  }
  return { bytesById, basis: `${rssBasis}, for every candidate (the runtimes' own allocation reports and RSS are different bases)` };
}
