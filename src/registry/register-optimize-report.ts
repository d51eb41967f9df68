import { EdgeforgeError } from "../core/errors.js";
import { pathExists } from "../core/path-exists.js";
import { machineFingerprint } from "../hardware/machine-summary.js";
import { isMetricName, metricInfo } from "../pareto/metric-catalog.js";
import type { CandidateReport, Report } from "../reports/report.js";
import type { Registry } from "./registry.js";
import type { ArtifactRecord, MetricRecord, VersionRecord } from "./registry-types.js";

export function metricRecordsOf(metrics: Record<string, number>): MetricRecord[] {
  return Object.entries(metrics).map(([name, value]) => ({ name, value, unit: isMetricName(name) ? metricInfo(name).unit : "unknown" }));
}

function evaluationOf(candidate: CandidateReport, report: Report, artifactDigest: string, datasetDigest: string | undefined) {
  return {
    artifactDigest,
    metrics: metricRecordsOf(candidate.metrics),
    ...(datasetDigest ? { datasetDigest } : {}),
    hardwareFingerprint: machineFingerprint(report.machine),
    runtime: candidate.runtime.runtime,
    ...(candidate.measurement?.runtimeVersion ? { runtimeVersion: candidate.measurement.runtimeVersion } : {}),
    source: `optimize report ${report.outputs.reportJson} (${candidate.id})`,
    measuredAt: report.createdAt,
  };
}

/**
 * Register an optimize run's recommended artifact as a new version: the input model as its parent,
 * the pass chain with every option and the tool versions as lineage, and the measured metrics of
 * the recommended candidate and of the baseline as evaluations.
 */
export async function registerOptimizeReport(registry: Registry, report: Report, options: { model: string; command: string; datasetDigest?: string; signal?: AbortSignal }): Promise<VersionRecord & { artifact: ArtifactRecord; evaluations: number }> {
  const candidate = report.candidates.find((c) => c.id === report.recommendation.candidateId);
  const path = report.outputs.recommendedArtifact ?? candidate?.artifact?.path;
  if (!candidate || path === undefined) {
    throw new EdgeforgeError("NOTHING_TO_DO", "the optimize run recommended no artifact, so there is nothing to register", {
      hint: "relax the gates or constraints, or register a model file directly with `edgeforge registry add`",
    });
  }
  const inputExists = await pathExists(report.input.path);
  const toolVersions: Record<string, string> = { edgeforge: report.tool.version, node: report.machine.node };
  if (candidate.measurement?.runtimeVersion) toolVersions[candidate.runtime.runtime] = candidate.measurement.runtimeVersion;
  const version = await registry.addVersion({
    model: options.model,
    path,
    command: options.command,
    notes: `recommended candidate ${candidate.label} of ${report.outputs.reportJson}`,
    ...(inputExists ? { parentPath: report.input.path } : {}),
    passes: candidate.passes.map((step) => ({ passId: step.passId, passVersion: step.passVersion, options: step.options })),
    toolVersions,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const evaluations = [evaluationOf(candidate, report, version.artifactDigest, options.datasetDigest)];
  const baseline = report.candidates.find((c) => c.isBaseline);
  const parent = inputExists ? registry.lineage(version.artifactDigest).producedBy?.parentDigest : undefined;
  if (baseline && baseline !== candidate && baseline.status === "measured" && parent) evaluations.push(evaluationOf(baseline, report, parent, options.datasetDigest));
  registry.recordEvaluations(evaluations);
  return { ...version, evaluations: evaluations.length };
}
