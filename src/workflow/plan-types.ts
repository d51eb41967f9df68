import type { ModelFormat } from "../core/artifact.js";
import type { FitAssessment } from "../hardware/assess-fit.js";
import type { ModelKind, RankedFramework } from "../hardware/recommend-frameworks.js";
import type { TargetProfile } from "../hardware/target-profile.js";
import type { CpuLoad } from "../bench/read-cpu-load.js";

/** What planning needs to know about the input model, whatever its format. */
export interface ModelFacts {
  format: ModelFormat;
  path: string;
  sizeBytes: number;
  parameterCount: number;
  architecture: string;
  modelKind: ModelKind;
  /** Float32 weights present (fp16 conversion has something to do). */
  hasFloat32Weights: boolean;
  /** ONNX: nodes with constant float weights per op type (MatMul, Gemm, Conv…). */
  weightNodesByOp: Record<string, number>;
  /** GGUF: the file type as stored (e.g. "F16"). */
  fileType?: string;
  /** GGUF: the context length the model was trained with (the runtime's default context). */
  contextLength?: number;
  fit: FitAssessment;
}

/** What this machine offers for measuring candidates. */
export interface LocalFacts {
  availableThreads: number;
  /** Cores not kept busy by other work when the run started (thread candidates come from these). */
  freeCores?: number;
  /** Machine load sampled at the start; the report says when it was oversubscribed. */
  load?: CpuLoad;
  /** Runtime ids from the runtime catalog that load here. */
  runtimes: string[];
  /** Why the MLX runtime (node-mlx) does not load here, when it does not. */
  mlxUnavailable?: string;
  /** ONNX Runtime execution providers proven to work here. */
  ortExecutionProviders: string[];
}

export interface PlannedPass {
  passId: string;
  options: Record<string, unknown>;
}

export interface PlannedRuntime {
  runtime: string;
  threads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** ORT CPU arena; false trades a little speed for less resident memory. */
  enableCpuMemArena?: boolean;
  /** ORT memory pattern planning. */
  enableMemPattern?: boolean;
  executionProvider?: string;
  contextSize?: number;
  /** llama.cpp batch in tokens (default: the context size); a smaller one shrinks the compute buffer. */
  batchSize?: number;
}

export interface PlannedCandidate {
  /** Short, unique, file-name safe. */
  id: string;
  label: string;
  chain: PlannedPass[];
  runtime: PlannedRuntime;
  isBaseline: boolean;
  reasons: string[];
  /** Categorical coordinates for the search samplers. */
  coordinates: Record<string, string>;
  /** Measurement is impossible here (e.g. MLX off Apple silicon): only the artifact is produced. */
  measurable: boolean;
}

export interface WorkflowPlan {
  modelKind: ModelKind;
  target: TargetProfile;
  frameworks: RankedFramework[];
  reasons: string[];
  baseline: PlannedCandidate;
  /** Why the baseline runs with the threads it does; `reducedToFreeCores` when busy cores made it fewer than the runtime's default. */
  defaultThreads?: { why: string; reducedToFreeCores: boolean };
  /** The search space, baseline excluded. */
  candidates: PlannedCandidate[];
  skipped: { label: string; reason: string }[];
}
