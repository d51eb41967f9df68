import { parseModelRef, type Registry } from "../api/registry.js";
import { servedModelFormat, servedModelSchema } from "../api/serve.js";
import { EdgeforgeError } from "../core/errors.js";
import type { ModelEvent, RolloutRecord } from "../registry/registry-types.js";
import { analyzeStep, type CandidateDrift, type StepAnalysis } from "../rollout/analyze-step.js";
import { parseRolloutPlan, type RolloutPlan } from "../rollout/rollout-plan.js";
import type { RolloutStatus } from "../rollout/rollout-status.js";
import type { ServedModel } from "./model-repository.js";
import type { ServerContext } from "./server-context.js";
import { emptySnapshot, snapshotVersion, windowBetween, type VersionSnapshot } from "./version-snapshot.js";

const serverActor = "edgeforge serve";

export interface StartRolloutRequest {
  candidate: string;
  plan: unknown;
  stableAlias?: string;
  candidateAlias?: string;
  actor?: string;
}


interface RunningRollout {
  id: number;
  name: string;
  plan: RolloutPlan;
  stable: ServedModel;
  candidate?: ServedModel;
  windowStart: VersionSnapshot;
  baselineStart: VersionSnapshot;
  failures: number;
  timer?: NodeJS.Timeout;
  /** Serializes analyses and operator actions on this rollout. */
  chain: Promise<unknown>;
}

/**
 * Drives canary and blue-green rollouts inside `edgeforge serve`: loads the candidate beside the stable
 * version, moves traffic step by step, analyses each interval from the server's own metrics, and promotes
 * or rolls back. Every transition is written to the registry first, so a restarted server resumes from it.
 */
export class RolloutController {
  private readonly running = new Map<string, RunningRollout>();
  private closed = false;

  constructor(
    private readonly context: ServerContext,
    private readonly registry: Registry | undefined,
  ) {}

  /** Served name → registry model, from the stable version's registry reference. */
  registryModelOf(name: string): string {
    const stable = this.stableOf(name);
    if (!stable.spec.source) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${name} is served from a file, not from the registry, so it cannot be rolled out`, {
        hint: `register it (edgeforge registry add) and serve it as --model ${name}=MODEL@production`,
        details: { model: name },
      });
    }
    return parseModelRef(stable.spec.source).model;
  }

  requireRegistry(): Registry {
    if (!this.registry) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", "this server has no registry, where rollouts keep their state", { hint: "serve registry models (--model NAME=MODEL@production) or pass --registry PATH" });
    }
    return this.registry;
  }

  private stableOf(name: string): ServedModel {
    const split = this.context.repository.traffic(name);
    const model = this.context.repository.list().find((m) => m.spec.name === name && m.spec.version === split?.stable);
    if (!model) throw new EdgeforgeError("MODEL_NOT_FOUND", `no model "${name}" is served`, { hint: `served: ${[...new Set(this.context.repository.list().map((m) => m.spec.name))].join(", ") || "none"}` });
    return model;
  }

  /** Start a rollout: record it, load the candidate, then give it the first step's weight. */
  async start(name: string, request: StartRolloutRequest): Promise<RolloutStatus> {
    const registry = this.requireRegistry();
    const plan = parseRolloutPlan(request.plan);
    const stable = this.stableOf(name);
    const registryModel = this.registryModelOf(name);
    if (this.running.has(name)) throw new EdgeforgeError("REGISTRY_CONFLICT", `${name} already has a rollout in progress`, { hint: `edgeforge rollout status ${name}; finish it with promote or abort` });
    const resolvedStable = registry.resolve(stable.spec.source as string);
    if (resolvedStable.version !== stable.spec.version) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${name} is served as version "${stable.spec.version}" but ${stable.spec.source} is registry version "${resolvedStable.version}"`, { hint: `serve it without a version label: --model ${name}=${stable.spec.source}` });
    }
    const selector = parseModelRef(stable.spec.source as string).selector;
    const aliasFromSource = selector !== undefined && selector !== stable.spec.version ? selector : undefined;
    const record = registry.rollouts.start({
      model: registryModel,
      stableVersion: stable.spec.version,
      candidateVersion: request.candidate,
      stableAlias: request.stableAlias ?? aliasFromSource ?? registry.rollouts.latest(registryModel)?.stableAlias ?? "production",
      candidateAlias: request.candidateAlias ?? "candidate",
      plan,
      command: "rollout start",
      actor: request.actor ?? "admin API",
      details: { servedAs: name },
    });
    this.context.logger.info(`rollout ${record.id} of ${name}: ${record.stableVersion} → ${record.candidateVersion} (${plan.strategy}, steps ${plan.steps.join(",")} %, interval ${plan.intervalMs} ms)`);
    await this.launch(name, record, stable, false);
    return this.status(name);
  }

  /** At start-up: resume every running rollout of a served model, or roll it back when it cannot be resumed safely. */
  async resumeAll(): Promise<void> {
    if (!this.registry) return;
    const names = [...new Set(this.context.repository.list().map((m) => m.spec.name))];
    for (const name of names) {
      let registryModel: string;
      try {
        registryModel = this.registryModelOf(name);
      } catch {
        continue;
      }
      const record = this.registry.rollouts.active(registryModel);
      if (!record) continue;
      const stable = this.stableOf(name);
      if (stable.spec.version !== record.stableVersion) {
        this.registry.rollouts.finish(record.id, "rolled-back", { reason: `after a restart the server serves ${name}@${stable.spec.version}, not the rollout's stable version ${record.stableVersion}`, command: "serve (resume)", actor: serverActor });
        continue;
      }
      try {
        await this.launch(name, record, stable, true);
      } catch (error) {
        this.context.logger.warn(`rollout ${record.id} of ${name} could not be resumed and was rolled back: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private async launch(name: string, record: RolloutRecord, stable: ServedModel, resumed: boolean): Promise<void> {
    const registry = this.requireRegistry();
    const plan = parseRolloutPlan(record.plan);
    const failures = registry.events.list(record.model, { rolloutId: record.id, limit: 10_000 }).filter((e) => e.kind === "analysis" && e.details.verdict === "fail").length;
    const run: RunningRollout = { id: record.id, name, plan, stable, windowStart: emptySnapshot(), baselineStart: emptySnapshot(), failures, chain: Promise.resolve() };
    this.running.set(name, run);
    this.context.repository.setTraffic(name, { stable: stable.spec.version, candidate: record.candidateVersion, candidateWeight: 0 });
    this.context.metrics.rolloutStep.set({ model: name }, record.stepIndex);
    try {
      run.candidate = await this.loadCandidate(name, record, stable);
    } catch (error) {
      await this.rollBack(run, `the candidate ${record.candidateVersion} could not be loaded: ${error instanceof Error ? error.message : String(error)}`, {}, serverActor);
      throw error;
    }
    if (this.running.get(name) !== run) {
      // Aborted while the candidate loaded: it never gets traffic.
      await this.context.repository.retire(run.candidate);
      return;
    }
    // Only now, with the candidate ready, does it get the weight its last passed analysis approved.
    const weightPercent = plan.steps[record.stepIndex] ?? 0;
    this.context.repository.setTraffic(name, { stable: stable.spec.version, candidate: record.candidateVersion, candidateWeight: weightPercent / 100 });
    run.baselineStart = await snapshotVersion(this.context.metrics, stable.labels);
    run.windowStart = await snapshotVersion(this.context.metrics, run.candidate.labels);
    registry.rollouts.recordEvent(record.id, { kind: resumed ? "resumed" : "step", details: { step: record.stepIndex, weightPercent, ...(resumed ? { afterRestart: true, failuresSoFar: failures } : {}) }, actor: serverActor });
    this.schedule(run);
  }

  private async loadCandidate(name: string, record: RolloutRecord, stable: ServedModel): Promise<ServedModel> {
    const existing = this.context.repository.list().find((m) => m.spec.name === name && m.spec.version === record.candidateVersion);
    if (existing) {
      if (existing.worker.state !== "ready") await existing.worker.start();
      return existing;
    }
    const resolved = this.requireRegistry().resolve(`${record.model}@${record.candidateVersion}`);
    const spec = servedModelSchema.parse({
      name,
      version: record.candidateVersion,
      path: resolved.artifact.path,
      source: `${record.model}@${record.candidateVersion}`,
      // The candidate sees the same traffic: its drift is judged against the stable version's reference.
      ...(stable.spec.reference === undefined ? {} : { reference: stable.spec.reference }),
      ...(resolved.certification?.signatureBundle === undefined ? {} : { signatureBundle: resolved.certification.signatureBundle }),
    });
    const format = await servedModelFormat(spec.path);
    if (format !== stable.format) throw new EdgeforgeError("UNSUPPORTED_FEATURE", `the candidate is ${format} but ${name} is served as ${stable.format}`, { hint: "roll out a version of the same format" });
    const candidate = this.context.repository.add(spec, format);
    await candidate.worker.start();
    return candidate;
  }

  private schedule(run: RunningRollout): void {
    if (this.closed) return;
    clearTimeout(run.timer);
    run.timer = setTimeout(() => {
      void this.serialized(run, () => this.analyze(run)).catch((error: unknown) => this.context.logger.warn(`rollout ${run.id} of ${run.name}: analysis failed: ${error instanceof Error ? error.message : String(error)}`));
    }, run.plan.intervalMs);
  }

  private serialized<T>(run: RunningRollout, fn: () => Promise<T>): Promise<T> {
    const next = run.chain.then(fn, fn);
    run.chain = next.catch(() => {});
    return next;
  }

  private async analyze(run: RunningRollout): Promise<void> {
    if (this.running.get(run.name) !== run || !run.candidate) return;
    const registry = this.requireRegistry();
    const record = registry.rollouts.get(run.id);
    const now = await snapshotVersion(this.context.metrics, run.candidate.labels);
    const stableNow = await snapshotVersion(this.context.metrics, run.stable.labels);
    const driftReport = run.candidate.monitor.evaluateDrift();
    const drift: CandidateDrift = driftReport ? { status: "evaluated", driftedShare: driftReport.driftedShare } : { status: run.candidate.monitor.snapshot().drift.status as Exclude<CandidateDrift["status"], "evaluated"> };
    const analysis = analyzeStep(run.plan.analysis, windowBetween(run.windowStart, now), windowBetween(run.baselineStart, stableNow), drift);
    const weightPercent = run.plan.steps[record.stepIndex] ?? 0;
    registry.rollouts.recordEvent(run.id, { kind: "analysis", details: { step: record.stepIndex, weightPercent, ...analysis }, actor: serverActor });
    this.context.logger.info(`rollout ${run.id} of ${run.name}: step ${record.stepIndex} (${weightPercent} %) ${analysis.verdict}: ${analysis.reasons.join("; ")}`);
    if (analysis.verdict === "inconclusive") {
      const reason = analysis.reasons[0] ?? "too little traffic";
      if (record.state !== "paused") registry.rollouts.update(run.id, { state: "paused", reason }, { kind: "paused", details: { step: record.stepIndex, reason: analysis.reasons[0] }, actor: serverActor });
      // Still paused: the status names the latest analysis's cause (8 requests, not the first pause's 3).
      else if (record.reason !== reason) registry.rollouts.update(run.id, { reason });
      this.schedule(run);
      return;
    }
    run.windowStart = now;
    if (analysis.verdict === "fail") {
      run.failures += 1;
      if (run.failures > run.plan.analysis.failureLimit) {
        await this.rollBack(run, `analysis failed at step ${record.stepIndex} (${weightPercent} %): ${analysis.failedReasons.join("; ")}`, { measured: analysis.measured, thresholds: analysis.thresholds, failures: run.failures }, serverActor);
        return;
      }
      if (record.state === "paused") registry.rollouts.update(run.id, { state: "progressing" }, { kind: "held", details: { step: record.stepIndex, failures: run.failures, failureLimit: run.plan.analysis.failureLimit }, actor: serverActor });
      this.schedule(run);
      return;
    }
    const next = record.stepIndex + 1;
    if (next >= run.plan.steps.length) {
      await this.promoteRun(run, `every step passed its analysis (last: ${analysis.reasons.join("; ")})`, { measured: analysis.measured }, serverActor, "rollout (automatic)");
      return;
    }
    const nextPercent = run.plan.steps[next] ?? 100;
    registry.rollouts.update(run.id, { stepIndex: next, state: "progressing" }, { kind: "step", details: { step: next, weightPercent: nextPercent, previousWeightPercent: weightPercent }, actor: serverActor });
    this.context.repository.setTraffic(run.name, { stable: run.stable.spec.version, candidate: run.candidate.spec.version, candidateWeight: nextPercent / 100 });
    this.context.metrics.rolloutStep.set({ model: run.name }, next);
    run.windowStart = await snapshotVersion(this.context.metrics, run.candidate.labels);
    this.schedule(run);
  }

  private stop(run: RunningRollout): void {
    clearTimeout(run.timer);
    this.running.delete(run.name);
    this.context.metrics.rolloutStep.set({ model: run.name }, -1);
  }

  private async promoteRun(run: RunningRollout, reason: string, details: Record<string, unknown>, actor: string, command: string): Promise<void> {
    const candidate = run.candidate;
    if (!candidate) throw new EdgeforgeError("MODEL_NOT_READY", `the candidate of ${run.name} is still loading`, { hint: "promote once `edgeforge rollout status` shows it receiving traffic" });
    this.requireRegistry().rollouts.finish(run.id, "promoted", { reason, command, details, actor });
    this.stop(run);
    this.context.repository.setTraffic(run.name, { stable: candidate.spec.version, candidateWeight: 0 });
    this.context.logger.info(`rollout ${run.id} of ${run.name}: promoted ${candidate.spec.version} (${reason})`);
    await this.context.repository.retire(run.stable);
  }

  /** Traffic back to 100/0 at once, then the registry record, then the candidate leaves once its requests finish. */
  private async rollBack(run: RunningRollout, reason: string, details: Record<string, unknown>, actor: string, outcome: "rolled-back" | "aborted" = "rolled-back", command = "rollout (automatic)"): Promise<void> {
    this.context.repository.setTraffic(run.name, { stable: run.stable.spec.version, candidateWeight: 0 });
    this.stop(run);
    this.requireRegistry().rollouts.finish(run.id, outcome, { reason, command, details, actor });
    this.context.logger.warn(`rollout ${run.id} of ${run.name}: ${outcome} (${reason})`);
    if (run.candidate) await this.context.repository.retire(run.candidate);
  }

  private runningOf(name: string): RunningRollout {
    const run = this.running.get(name);
    if (!run) throw new EdgeforgeError("REGISTRY_NOT_FOUND", `${name} has no rollout in progress`, { hint: `start one: edgeforge rollout start ${name} --candidate VERSION` });
    return run;
  }

  async promote(name: string, actor = "admin API", reason = "promoted by an operator"): Promise<RolloutStatus> {
    const run = this.runningOf(name);
    await this.serialized(run, () => (this.running.get(name) === run ? this.promoteRun(run, reason, {}, actor, "rollout promote") : Promise.resolve()));
    return this.status(name);
  }

  /** Operator abort (`rollout abort`) or an automated rollback (error-rate alert): traffic to the stable version at once. */
  async abort(name: string, options: { actor?: string; reason?: string; outcome?: "rolled-back" | "aborted"; command?: string; details?: Record<string, unknown> } = {}): Promise<RolloutStatus> {
    const run = this.runningOf(name);
    await this.serialized(run, () =>
      this.running.get(name) === run ? this.rollBack(run, options.reason ?? "aborted by an operator", options.details ?? {}, options.actor ?? "admin API", options.outcome ?? "aborted", options.command ?? "rollout abort") : Promise.resolve(),
    );
    return this.status(name);
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  status(name: string): RolloutStatus {
    const stable = this.stableOf(name);
    const split = this.context.repository.traffic(name);
    const run = this.running.get(name);
    const candidateVersion = run ? split?.candidate : undefined;
    const candidateWeight = candidateVersion === undefined ? 0 : (split?.candidateWeight ?? 0);
    const base = { model: name, stable: { version: stable.spec.version, weight: 1 - candidateWeight }, candidate: candidateVersion === undefined ? null : { version: candidateVersion, weight: candidateWeight } };
    let registryModel: string | undefined;
    try {
      registryModel = this.registryModelOf(name);
    } catch {
      registryModel = undefined;
    }
    const record = registryModel !== undefined && this.registry ? this.registry.rollouts.latest(registryModel) : undefined;
    if (!record || registryModel === undefined || !this.registry) return { ...base, state: "idle", stepIndex: -1, steps: [], intervalMs: 0, analysis: [], decisions: [] };
    const plan = parseRolloutPlan(record.plan);
    const events = this.registry.events.list(registryModel, { rolloutId: record.id, limit: 1000 });
    return {
      ...base,
      registryModel,
      state: record.state,
      strategy: plan.strategy,
      stepIndex: record.stepIndex,
      steps: plan.steps,
      intervalMs: plan.intervalMs,
      rolloutId: record.id,
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      startedAtIso: record.startedAt,
      updatedAtIso: record.updatedAt,
      analysis: events.filter((e) => e.kind === "analysis").map((e) => analysisEntry(e)),
      decisions: events.filter((e) => e.kind !== "analysis").map((e) => ({ atIso: e.at, kind: e.kind, actor: e.actor, details: e.details })),
    };
  }

  /** Stop the analysis timers (server shutdown); the registry keeps the state for the next start. */
  close(): void {
    this.closed = true;
    for (const run of this.running.values()) clearTimeout(run.timer);
  }
}

function analysisEntry(event: ModelEvent): RolloutStatus["analysis"][number] {
  const d = event.details as unknown as StepAnalysis & { step: number; weightPercent: number };
  return { step: d.step, weightPercent: d.weightPercent, atIso: event.at, verdict: d.verdict, measured: d.measured, thresholds: d.thresholds, reasons: d.reasons };
}
