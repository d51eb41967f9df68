import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { copyFileAtomic, writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import { hashFileSha256 } from "../core/hashing.js";
import { silentLogger } from "../core/logger.js";
import { formatBytes, parseSizeBytes } from "../core/units.js";
import type { Report } from "../reports/report.js";
import { assessEnvironment } from "./assess-environment.js";
import { readConfigLayer, resolveConfigPaths, resolveWorkflowConfig, type ConfigLayer } from "./load-workflow-config.js";
import { measureSpeed } from "./measure-speed.js";
import { inspectModelFacts } from "./model-facts.js";
import { pipelineConfigSchema, type PipelineConfig } from "./pipeline-config.js";
import { runWorkflow, type WorkflowOptions } from "./run-workflow.js";

export type PipelineStage = "validation" | "optimization" | "testing" | "packaging";

export interface PipelineStageResult {
  stage: PipelineStage;
  status: "passed" | "failed" | "skipped";
  notes: string[];
  durationMs: number;
}

export interface PipelineResult {
  schemaVersion: 1;
  kind: "edgeforge.pipeline";
  name: string;
  verdict: "passed" | "failed";
  stages: PipelineStageResult[];
  report?: Report;
  packageDir?: string;
  resultPath: string;
}

/** Read and validate a pipeline file; paths inside it are relative to the file. */
export async function readPipelineConfig(path: string, signal?: AbortSignal): Promise<PipelineConfig> {
  const layer = await readConfigLayer(path, signal);
  const base = dirname(resolve(path));
  const stages = (layer.stages ?? {}) as Record<string, unknown>;
  if (stages && typeof stages === "object") {
    if (stages.optimization && typeof stages.optimization === "object") stages.optimization = resolveConfigPaths(stages.optimization as ConfigLayer, base);
    const testing = stages.testing as { gates?: ConfigLayer } | undefined;
    if (testing?.gates && typeof testing.gates === "object") testing.gates = (resolveConfigPaths({ gates: testing.gates }, base).gates ?? {}) as ConfigLayer;
  }
  return parsePipelineConfig(layer, path);
}

export function parsePipelineConfig(layer: ConfigLayer, where: string): PipelineConfig {
  const result = pipelineConfigSchema.safeParse(layer);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} does not match the pipeline schema:\n${z.prettifyError(result.error)}`, {
      hint: "a pipeline has schemaVersion: 1, name, model, output and stages {validation, optimization, testing, packaging}; see docs/decide.md",
      details: { where, issues: result.error.issues },
    });
  }
  return result.data;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; durationMs: number }> {
  const started = performance.now();
  const value = await run();
  return { value, durationMs: performance.now() - started };
}

/**
 * Run the stages in order; a failed stage stops the ones after it (they are reported as skipped).
 * The pipeline's verdict and every stage's notes land in OUTPUT/pipeline.json.
 */
export async function runPipeline(pipeline: PipelineConfig, options: WorkflowOptions): Promise<PipelineResult> {
  const logger = options.logger ?? silentLogger;
  const output = resolve(pipeline.output);
  const stages: PipelineStageResult[] = [];
  const skip = (stage: PipelineStage, why: string): void => void stages.push({ stage, status: "skipped", notes: [why], durationMs: 0 });
  const finish = async (report?: Report, packageDir?: string): Promise<PipelineResult> => {
    const verdict = stages.every((s) => s.status !== "failed") ? "passed" : "failed";
    const resultPath = join(output, "pipeline.json");
    const result: PipelineResult = { schemaVersion: 1, kind: "edgeforge.pipeline", name: pipeline.name, verdict, stages, ...(report ? { report } : {}), ...(packageDir ? { packageDir } : {}), resultPath };
    const { report: _omitted, ...summary } = result;
    await writeFileAtomic(resultPath, `${JSON.stringify(summary, null, 2)}\n`, options.signal);
    return result;
  };

  const validation = pipeline.stages.validation;
  if (validation) {
    logger.info("stage validation");
    const { value: notes, durationMs } = await timed(() => validate(pipeline, validation, options));
    const failed = notes.some((n) => n.startsWith("FAIL"));
    stages.push({ stage: "validation", status: failed ? "failed" : "passed", notes, durationMs });
    if (failed) {
      for (const stage of ["optimization", "testing", "packaging"] as const) skip(stage, "validation failed");
      return finish();
    }
  } else skip("validation", "not configured");

  logger.info("stage optimization");
  const config = resolveWorkflowConfig(
    { schemaVersion: 1, model: pipeline.model, target: pipeline.target, output: pipeline.output, ...pipeline.stages.optimization, ...(pipeline.stages.testing?.gates ? { gates: pipeline.stages.testing.gates } : {}) },
    `${pipeline.name}: optimization stage`,
  );
  const { value: outcome, durationMs } = await timed(() => runWorkflow(config, options));
  const report = outcome.report;
  stages.push({ stage: "optimization", status: "passed", notes: [`${report.search.evaluated} candidates evaluated (${report.search.stoppedBecause})`, `report: ${report.outputs.reportHtml}`], durationMs });

  const testing = await timed(() => test(pipeline, report, options));
  stages.push({ stage: "testing", status: testing.value.passed ? "passed" : "failed", notes: testing.value.notes, durationMs: testing.durationMs });
  if (!testing.value.passed) {
    skip("packaging", "testing failed");
    return finish(report);
  }
  const packaging = pipeline.stages.packaging;
  if (!packaging) {
    skip("packaging", "not configured");
    return finish(report);
  }
  const packed = await timed(() => pack(pipeline, report, packaging, options.signal));
  stages.push({ stage: "packaging", status: "passed", notes: [`packaged ${packed.value.files} files into ${packed.value.dir}`], durationMs: packed.durationMs });
  return finish(report, packed.value.dir);
}

async function validate(pipeline: PipelineConfig, validation: NonNullable<PipelineConfig["stages"]["validation"]>, options: WorkflowOptions): Promise<string[]> {
  const notes: string[] = [];
  const environment = await assessEnvironment(pipeline.target, { ...(options.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: options.memoryBudgetBytes }), ...(options.signal ? { signal: options.signal } : {}) });
  const model = await inspectModelFacts(resolve(pipeline.model), environment.target, options.signal ? { signal: options.signal } : {});
  notes.push(`inspected ${model.artifact.path}: ${model.facts.format}, ${model.facts.architecture}, ${model.facts.parameterCount} parameters, ${formatBytes(model.artifact.sizeBytes)}`);
  if (validation.maxSizeBytes !== undefined) {
    const limit = typeof validation.maxSizeBytes === "number" ? validation.maxSizeBytes : parseSizeBytes(validation.maxSizeBytes);
    if (limit === undefined) throw new EdgeforgeError("INVALID_CONFIG", `stages.validation.maxSizeBytes "${validation.maxSizeBytes}" is not a size`, { hint: "write e.g. 50MB" });
    notes.push(`${model.artifact.sizeBytes <= limit ? "ok" : "FAIL"}: size ${formatBytes(model.artifact.sizeBytes)} vs limit ${formatBytes(limit)}`);
  }
  if (validation.requireFit) {
    const fit = model.facts.fit;
    const fits = fit.fits || fit.bestFittingQuantization !== undefined;
    notes.push(
      `${fits ? "ok" : "FAIL"}: estimated ${formatBytes(fit.estimatedRunBytes)} to run against ${environment.target.name}'s budget ${formatBytes(fit.memoryBudgetBytes)}${fit.fits ? "" : fit.bestFittingQuantization ? `; fits as ${fit.bestFittingQuantization}` : "; no quantization fits"} (estimate)`,
    );
  }
  if (validation.smokeTest && model.facts.format === "safetensors") {
    notes.push("smoke test: no runtime runs a Hugging Face folder as it is; the optimization stage converts it to GGUF and runs the conversion once in llama.cpp before measuring it (hf.convert.gguf's run check)");
  } else if (validation.smokeTest) {
    const runtime = model.facts.format === "gguf" ? "llama-cpp" : "ort";
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: pipeline.model, output: pipeline.output, measurement: { runs: 3, warmupRuns: 1, ...(pipeline.stages.optimization.measurement?.shapes ? { shapes: pipeline.stages.optimization.measurement.shapes } : {}) } }, "smoke test");
    const speed = await measureSpeed(model.artifact.path, { runtime }, config, options);
    notes.push(speed.ok ? `ok: smoke test ran 3 inferences on ${runtime} (p50 ${speed.latency?.p50Ms.toFixed(2)} ms)` : `FAIL: smoke test on ${runtime}: [${speed.error?.code}] ${speed.error?.message}`);
  }
  return notes;
}

async function test(pipeline: PipelineConfig, report: Report, options: WorkflowOptions): Promise<{ passed: boolean; notes: string[] }> {
  const notes: string[] = [];
  const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
  if (!recommended || !report.outputs.recommendedArtifact) {
    notes.push(`FAIL: no candidate passed the gates${report.gates.closest ? `; closest ${report.gates.closest.candidateId}` : ""} (see ${report.outputs.junitXml})`);
    return { passed: false, notes };
  }
  notes.push(`ok: ${recommended.id} passes ${report.gates.definitions.length} gates (${report.outputs.junitXml})`);
  const verify = pipeline.stages.testing?.verifyRecommended;
  if (verify && recommended.metrics.p50LatencyMs !== undefined) {
    const config = resolveWorkflowConfig({ schemaVersion: 1, model: pipeline.model, output: pipeline.output, measurement: { runs: verify.runs, warmupRuns: 5, ...(pipeline.stages.optimization.measurement?.shapes ? { shapes: pipeline.stages.optimization.measurement.shapes } : {}) } }, "verification");
    const runtime = { runtime: recommended.runtime.runtime, ...(recommended.runtime.threads === undefined ? {} : { threads: recommended.runtime.threads }), ...(recommended.runtime.graphOptimizationLevel ? { graphOptimizationLevel: recommended.runtime.graphOptimizationLevel as "all" } : {}), ...(recommended.runtime.executionProvider ? { executionProvider: recommended.runtime.executionProvider } : {}) };
    const again = await measureSpeed(report.outputs.recommendedArtifact, runtime, config, options);
    const p50 = again.latency?.p50Ms;
    if (!again.ok || p50 === undefined) {
      notes.push(`FAIL: re-measuring ${report.outputs.recommendedArtifact} failed: ${again.error?.message ?? "no result"}`);
      return { passed: false, notes };
    }
    const deviation = Math.abs(p50 - recommended.metrics.p50LatencyMs) / recommended.metrics.p50LatencyMs;
    const ok = deviation * 100 <= verify.tolerancePercent;
    notes.push(`${ok ? "ok" : "FAIL"}: re-measured p50 ${p50.toFixed(3)} ms vs reported ${recommended.metrics.p50LatencyMs.toFixed(3)} ms (${(deviation * 100).toFixed(1)}%, tolerance ${verify.tolerancePercent}%)`);
    if (!ok) return { passed: false, notes };
  }
  return { passed: true, notes };
}

async function pack(pipeline: PipelineConfig, report: Report, packaging: NonNullable<PipelineConfig["stages"]["packaging"]>, signal?: AbortSignal): Promise<{ dir: string; files: number }> {
  const dir = join(resolve(pipeline.output), packaging.dir);
  const recommendedDir = dirname(report.outputs.recommendedArtifact as string);
  const files: { name: string; sizeBytes: number; sha256: string }[] = [];
  const sources = (await readdir(recommendedDir)).map((name) => join(recommendedDir, name));
  if (packaging.includeReports) sources.push(report.outputs.reportJson, report.outputs.reportMd, report.outputs.reportHtml, report.outputs.junitXml);
  for (const source of sources) {
    const destination = join(dir, basename(source));
    await copyFileAtomic(source, destination, signal);
    const { size } = await stat(destination);
    files.push({ name: basename(source), sizeBytes: size, sha256: await hashFileSha256(destination, signal) });
  }
  const recommended = report.candidates.find((c) => c.id === report.recommendation.candidateId);
  const manifest = {
    schemaVersion: 1,
    kind: "edgeforge.package",
    name: pipeline.name,
    createdAt: new Date().toISOString(),
    target: report.target.name,
    input: report.input,
    candidate: recommended ? { id: recommended.id, passes: recommended.passes.map((p) => ({ passId: p.passId, passVersion: p.passVersion, options: p.options })), runtime: recommended.runtime, metrics: recommended.metrics } : undefined,
    gates: report.gates.verdicts.find((v) => v.candidateId === recommended?.id),
    files,
  };
  await writeFileAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`, signal);
  return { dir, files: files.length + 1 };
}
