import { join } from "node:path";
import { z } from "zod";
import type { Artifact } from "../core/artifact.js";
import { EdgeforgeError } from "../core/errors.js";
import type { Pass, PassContext } from "../passes/pass.js";
import type { PassStepReport } from "../reports/report.js";
import { computePassCacheKey, type CachedPassRun, type PassCache, type PassCacheKeyParts } from "./pass-cache.js";
import type { PlannedPass } from "./plan-types.js";
import type { RunLog } from "./run-log.js";

export type HashedArtifact = Artifact & { sha256: string };

export interface ProduceDependencies {
  lookupPass(passId: string): Pass;
  cache: PassCache;
  toolVersions: Record<string, string>;
  /** The context a pass runs with (sessions for calibration, datasets, scratch folder). */
  contextFor(pass: Pass): PassContext;
  log: RunLog;
  /** Runs already produced in this run, by cache key, so one chain feeds many runtime settings. */
  produced: Map<string, CachedPassRun>;
}

export interface ProducedArtifact {
  artifact: HashedArtifact;
  steps: PassStepReport[];
}

/** Validate planned options through the pass's own schema, so the cache key holds every default. */
export function resolvePassOptions(pass: Pass, options: Record<string, unknown>): Record<string, unknown> {
  const result = pass.optionsSchema.safeParse(options);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `options for ${pass.id} are invalid:\n${z.prettifyError(result.error)}`, {
      hint: `see \`edgeforge quantize --help\` or the pass's option table; options given: ${JSON.stringify(options)}`,
      details: { passId: pass.id, options },
    });
  }
  return result.data;
}

/** The fingerprints of the data `pass` reads with `options`, for its cache key; undefined when it reads none. */
async function dataFingerprints(pass: Pass, options: Record<string, unknown>, context: PassContext): Promise<PassCacheKeyParts["data"]> {
  const roles = pass.readsData?.(options) ?? [];
  if (roles.length === 0) return undefined;
  const datasets = { calibration: context.calibrationData, evaluation: context.evaluationData };
  const entries = await Promise.all(roles.map(async (role) => [role, (await datasets[role]?.fingerprint(context.signal)) ?? "none"] as const));
  return Object.fromEntries(entries);
}

/**
 * Run a pass chain on an artifact, each step through the content-addressed cache: a step whose
 * key (input bytes, pass, version, options, tool versions, the data it reads) was seen before is reused, not rerun.
 */
export async function produceArtifact(input: HashedArtifact, chain: readonly PlannedPass[], deps: ProduceDependencies): Promise<ProducedArtifact> {
  let current = input;
  const steps: PassStepReport[] = [];
  for (const step of chain) {
    const pass = deps.lookupPass(step.passId);
    const options = resolvePassOptions(pass, step.options);
    const data = await dataFingerprints(pass, options, deps.contextFor(pass));
    const parts = { inputSha256: current.sha256, passId: pass.id, passVersion: pass.version, options, toolVersions: deps.toolVersions, ...(data ? { data } : {}) };
    const key = computePassCacheKey(parts);
    let run = deps.produced.get(key);
    let reusedInRun = run !== undefined;
    if (!run) {
      run = await deps.cache.lookup(key);
      if (run) deps.log.info(`cache hit ${pass.id} ${JSON.stringify(step.options)} (key ${key.slice(0, 12)}) → ${run.artifact.path}`);
    }
    if (!run) {
      const source = current;
      deps.log.info(`running ${pass.id} ${JSON.stringify(step.options)} on ${source.path} (cache ${deps.cache.enabled ? "miss" : "disabled"}, key ${key.slice(0, 12)})`);
      run = await deps.cache.store(key, parts, (outputDir) => pass.run(source, join(outputDir, pass.defaultOutputName(source.path, options)), options, deps.contextFor(pass)), {
        onWait: (holder) => deps.log.info(`waiting for ${holder}, which is writing cache entry ${key.slice(0, 12)}`),
      });
      deps.log.info(
        run.hit ? `another run stored ${pass.id} meanwhile: cache hit → ${run.artifact.path}` : `ran ${pass.id} in ${(run.durationMs / 1000).toFixed(1)} s → ${run.artifact.path}`,
      );
      reusedInRun = false;
    } else if (reusedInRun) {
      deps.log.info(`reusing ${pass.id} ${JSON.stringify(step.options)} produced earlier in this run (key ${key.slice(0, 12)})`);
    }
    deps.produced.set(key, run);
    steps.push({
      passId: pass.id,
      passVersion: pass.version,
      options,
      chosenOptions: step.options,
      cacheKey: key,
      cacheHit: run.hit,
      durationMs: run.durationMs,
      counts: run.log.counts,
      notes: run.log.notes,
    });
    current = run.artifact;
  }
  return { artifact: current, steps };
}
