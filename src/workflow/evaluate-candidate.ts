import { EdgeforgeError, type ErrorCode } from "../core/errors.js";
import type { Reporter } from "../core/logger.js";
import type { Gate } from "../gates/gate.js";
import { judgeCandidate, type CandidateVerdict, type MetricIntervals } from "../gates/evaluate-gates.js";
import type { MetricValues } from "../pareto/metric-catalog.js";
import type { Objective } from "../pareto/objective.js";
import type { CandidateReport } from "../reports/report.js";
import { candidateLoss, deriveRelativeMetrics } from "./derive-metrics.js";
import { measureCandidateSpeed } from "./measure-speed.js";
import type { PlannedCandidate } from "./plan-types.js";
import { produceArtifact, type HashedArtifact, type ProduceDependencies } from "./produce-artifact.js";
import type { WorkflowConfig } from "./workflow-config.js";

/** Errors about the model itself (what it is made of), as opposed to how it was measured. */
const modelErrorCodes: ReadonlySet<string> = new Set<ErrorCode>(["UNSUPPORTED_OP", "UNSUPPORTED_FEATURE", "CORRUPT_MODEL", "TRUNCATED_FILE", "UNKNOWN_FORMAT"]);

export interface QualityMeasurement {
  metrics: MetricValues;
  method: string;
}

/** Accuracy or fidelity of a produced artifact (the input model itself included). */
export type MeasureQuality = (candidate: PlannedCandidate, artifact: HashedArtifact) => Promise<QualityMeasurement | undefined>;

export interface EvaluatedCandidate {
  planned: PlannedCandidate;
  report: CandidateReport;
  /** The produced artifact with all its files (absent when a pass failed). */
  artifact?: HashedArtifact;
  /** Figures as measured, before the ratios against the baseline. */
  measured?: MetricValues;
  /** Intervals of the side-by-side ratios. */
  intervals?: MetricIntervals;
  verdict?: CandidateVerdict;
  loss: number;
}

export interface EvaluateContext {
  input: HashedArtifact;
  config: WorkflowConfig;
  produce: ProduceDependencies;
  measureQuality: MeasureQuality;
  /** Estimated memory to run the artifact on the target (from its headers). */
  estimateRunBytes: (artifact: HashedArtifact) => Promise<number | undefined>;
  gates: readonly Gate[];
  objectives: readonly Objective[];
  reporter: Reporter;
}

function errorOf(error: unknown): { code: string; message: string } {
  if (EdgeforgeError.isInstance(error)) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

/**
 * Produce one candidate's artifact (through the cache) and measure it: speed and memory in the
 * benchmark harness, accuracy with the run's evaluator, ratios against the baseline, gate verdicts.
 * A failure becomes a failed candidate in the report, never a crashed run (the baseline excepted).
 */
export async function evaluateCandidate(planned: PlannedCandidate, context: EvaluateContext, baseline: EvaluatedCandidate | undefined): Promise<EvaluatedCandidate> {
  const { config, produce } = context;
  const base = {
    id: planned.id,
    label: planned.label,
    isBaseline: planned.isBaseline,
    runtime: { ...planned.runtime },
    estimatedMetrics: [] as string[],
  };
  let produced;
  try {
    produced = await produceArtifact(context.input, planned.chain, produce);
  } catch (error) {
    if (planned.isBaseline) throw error;
    produce.log.warn(`${planned.id}: pass failed: ${errorOf(error).message}`);
    return { planned, report: { ...base, passes: [], status: "failed", error: errorOf(error), metrics: {} }, loss: Number.POSITIVE_INFINITY };
  }
  const estimatedRunBytes = await context.estimateRunBytes(produced.artifact).catch(() => undefined);
  const estimated: MetricValues = estimatedRunBytes === undefined ? {} : { estimatedRunBytes };
  base.estimatedMetrics = estimatedRunBytes === undefined ? [] : ["estimatedRunBytes"];
  const artifact = {
    format: produced.artifact.format,
    path: produced.artifact.path,
    ...(produced.steps.length > 0 ? { cachePath: produced.artifact.path } : {}),
    sizeBytes: produced.artifact.sizeBytes,
    sha256: produced.artifact.sha256,
  };
  if (!planned.measurable) {
    produce.log.info(`${planned.id}: ${artifact.format} artifact produced; it cannot be measured on this machine`);
    return { planned, artifact: produced.artifact, report: { ...base, passes: produced.steps, status: "unmeasured", artifact, metrics: { sizeBytes: artifact.sizeBytes, ...estimated } }, loss: Number.POSITIVE_INFINITY };
  }
  // Every ratio is against the input model as it stands after the baseline's chain (e.g. an HF → GGUF conversion).
  const reference = baseline?.artifact ?? produced.artifact;
  const speedGate = context.gates.find((g) => g.metric === "speedup" && g.goal === "threshold");
  const speed = await measureCandidateSpeed(
    {
      input: { path: reference.path, format: reference.format },
      defaultRuntime: baseline?.planned.runtime ?? planned.runtime,
      candidate: { path: produced.artifact.path, format: produced.artifact.format, runtime: planned.runtime, isBaseline: planned.isBaseline, hasPasses: planned.chain.length > (baseline?.planned.chain.length ?? 0) },
      ...(speedGate ? { speedupThreshold: speedGate.value } : {}),
    },
    config,
    context.reporter,
  );
  if (!speed.ok) {
    const error = speed.error ?? { code: "MEASUREMENT_FAILED", message: "measurement failed" };
    if (planned.isBaseline) {
      // A refusal that names the model's own problem (a custom operator, say) keeps its code and hint: it is the answer.
      const modelProblem = modelErrorCodes.has(error.code) && error.hint !== undefined;
      throw new EdgeforgeError(modelProblem ? (error.code as ErrorCode) : "MEASUREMENT_FAILED", `the input model could not be measured: [${error.code}] ${error.message}`, {
        hint: modelProblem ? error.hint! : "run `edgeforge bench` on the model to see the full error; fix input shapes with --shape",
        details: { candidate: planned.id },
      });
    }
    produce.log.warn(`${planned.id}: measurement failed: [${error.code}] ${error.message}`);
    return { planned, artifact: produced.artifact, report: { ...base, passes: produced.steps, status: "failed", error, artifact, metrics: { sizeBytes: artifact.sizeBytes, ...estimated } }, loss: Number.POSITIVE_INFINITY };
  }
  let quality: QualityMeasurement | undefined;
  try {
    quality = await context.measureQuality(planned, produced.artifact);
  } catch (error) {
    if (planned.isBaseline) throw error;
    produce.log.warn(`${planned.id}: accuracy evaluation failed: ${errorOf(error).message}`);
    return { planned, artifact: produced.artifact, report: { ...base, passes: produced.steps, status: "failed", error: errorOf(error), artifact, metrics: speed.metrics }, loss: Number.POSITIVE_INFINITY };
  }
  // Speed figures come from the side-by-side measurement, never from the evaluator.
  const measured: MetricValues = { ...(quality?.metrics ?? {}), ...speed.metrics, sizeBytes: artifact.sizeBytes, ...estimated };
  if (planned.isBaseline && quality) measured.accuracyRetention = 1;
  const judged = judgeAgainst(planned, measured, baseline?.measured ?? measured, context, speed.intervals);
  const measurement = speed.measurement && {
    ...speed.measurement,
    notes: [...speed.measurement.notes, ...(judged.memoryBasis ? [`memoryReduction from ${judged.memoryBasis}`] : [])],
  };
  const { metrics, verdict, loss } = judged;
  const report: CandidateReport = {
    ...base,
    passes: produced.steps,
    status: "measured",
    artifact,
    metrics: metrics as Record<string, number>,
    ...(speed.latency ? { latency: speed.latency } : {}),
    ...(measurement ? { measurement } : {}),
    ...(speed.sideBySide ? { sideBySide: speed.sideBySide } : {}),
    ...(Object.keys(speed.intervals).length > 0 ? { intervals: speed.intervals as Record<string, { low: number; high: number; level: number }> } : {}),
    ...(quality ? { evaluationMethod: quality.method } : {}),
  };
  produce.log.info(
    `${planned.id}: p50 ${metrics.p50LatencyMs?.toFixed(2) ?? "—"} ms, peak RSS ${metrics.peakRssBytes === undefined ? "—" : `${(metrics.peakRssBytes / 2 ** 20).toFixed(1)} MiB`}, accuracy retention ${metrics.accuracyRetention?.toFixed(4) ?? "—"}, gates ${verdict.passed ? "passed" : "failed"}`,
  );
  return { planned, artifact: produced.artifact, measured, intervals: speed.intervals, report, verdict, loss };
}

/** Ratios against the baseline, gate verdicts and the sampler's loss for measured figures. */
export function judgeAgainst(planned: PlannedCandidate, measured: MetricValues, reference: MetricValues, context: Pick<EvaluateContext, "gates" | "objectives">, intervals: MetricIntervals = {}) {
  const { metrics, memoryBasis } = deriveRelativeMetrics(measured, reference);
  const verdict = judgeCandidate(planned.id, context.gates, metrics, reference, intervals);
  const shortfall = verdict.results.filter((r) => !r.passed).reduce((sum, r) => sum + (r.relativeMargin === undefined ? 1 : Math.abs(r.relativeMargin)), 0);
  return { metrics, memoryBasis, verdict, loss: candidateLoss(metrics, reference, context.objectives, shortfall) };
}
