import { EdgeforgeError } from "../core/errors.js";
import type { ModelEvents } from "./model-events.js";
import type { RegistryAccess } from "./registry-access.js";
import { checkAlias } from "./registry-names.js";
import type { ModelEvent, RolloutRecord, RolloutState } from "./registry-types.js";

const activeStates = ["progressing", "paused"] as const;

export interface StartRolloutOptions {
  model: string;
  stableVersion: string;
  candidateVersion: string;
  /** The alias the server serves as stable (moved to the candidate on promotion). */
  stableAlias: string;
  /** Points at the candidate while the rollout runs; moved back to the stable version on rollback. */
  candidateAlias: string;
  plan: Record<string, unknown>;
  command: string;
  actor?: string;
  details?: Record<string, unknown>;
}

export interface RolloutEventOptions {
  kind: string;
  details?: Record<string, unknown>;
  actor?: string;
}

interface RolloutRow {
  id: number;
  model: string;
  stable_version: string;
  candidate_version: string;
  stable_alias: string;
  candidate_alias: string;
  state: RolloutState;
  step_index: number;
  plan_json: string;
  reason: string | null;
  started_at: string;
  updated_at: string;
}

const selectRollout = `SELECT r.id, m.name AS model, s.version AS stable_version, c.version AS candidate_version, r.stable_alias, r.candidate_alias, r.state, r.step_index, r.plan_json, r.reason, r.started_at, r.updated_at
  FROM rollouts r JOIN models m ON m.id = r.model_id JOIN versions s ON s.id = r.stable_version_id JOIN versions c ON c.id = r.candidate_version_id`;

function toRecord(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    model: row.model,
    stableVersion: row.stable_version,
    candidateVersion: row.candidate_version,
    stableAlias: row.stable_alias,
    candidateAlias: row.candidate_alias,
    state: row.state,
    stepIndex: row.step_index,
    plan: JSON.parse(row.plan_json) as Record<string, unknown>,
    ...(row.reason === null ? {} : { reason: row.reason }),
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Rollout state kept in the registry, so a restarted server resumes (or rolls back) instead of guessing.
 * Every transition is one transaction together with its event and, where an alias moves, its alias_events row.
 */
export class RolloutRecords {
  constructor(
    private readonly access: RegistryAccess,
    private readonly events: ModelEvents,
  ) {}

  get(id: number): RolloutRecord {
    const row = this.access.db.prepare(`${selectRollout} WHERE r.id = ?`).get(id) as RolloutRow | undefined;
    if (!row) throw new EdgeforgeError("REGISTRY_NOT_FOUND", `no rollout ${id} in the registry`, { hint: "see `edgeforge rollout status MODEL`" });
    return toRecord(row);
  }

  /** The running (progressing or paused) rollout of a model, if any. */
  active(model: string): RolloutRecord | undefined {
    const row = this.access.db.prepare(`${selectRollout} WHERE r.model_id = ? AND r.state IN ('progressing', 'paused')`).get(this.access.modelId(model)) as RolloutRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** The newest rollout of a model, running or finished. */
  latest(model: string): RolloutRecord | undefined {
    const row = this.access.db.prepare(`${selectRollout} WHERE r.model_id = ? ORDER BY r.id DESC LIMIT 1`).get(this.access.modelId(model)) as RolloutRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every running rollout (a restarted server resumes these). */
  listActive(): RolloutRecord[] {
    return (this.access.db.prepare(`${selectRollout} WHERE r.state IN ('progressing', 'paused') ORDER BY r.id`).all() as RolloutRow[]).map(toRecord);
  }

  /** Begin a rollout at step 0: the candidate alias moves to the candidate; refused while another runs. */
  start(options: StartRolloutOptions): RolloutRecord {
    for (const alias of [options.stableAlias, options.candidateAlias]) checkAlias(alias);
    if (options.stableAlias === options.candidateAlias) throw new EdgeforgeError("INVALID_OPTION", `the stable and candidate aliases are both "${options.stableAlias}"`, { hint: "use another --candidate-alias" });
    if (options.stableVersion === options.candidateVersion) {
      throw new EdgeforgeError("INVALID_OPTION", `${options.model}@${options.candidateVersion} is already the stable version`, { hint: "roll out a different version" });
    }
    return this.access.write(() => {
      const running = this.active(options.model);
      if (running) {
        throw new EdgeforgeError("REGISTRY_CONFLICT", `${options.model} already has a rollout in progress (${running.stableVersion} → ${running.candidateVersion}, ${running.state})`, {
          hint: `finish it first: \`edgeforge rollout promote ${options.model}\` or \`edgeforge rollout abort ${options.model}\``,
          details: { rolloutId: running.id },
        });
      }
      const modelId = this.access.modelId(options.model);
      const at = this.access.timestamp();
      const result = this.access.db
        .prepare("INSERT INTO rollouts (model_id, stable_version_id, candidate_version_id, stable_alias, candidate_alias, state, step_index, plan_json, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'progressing', 0, ?, ?, ?)")
        .run(modelId, this.access.versionId(options.model, options.stableVersion), this.access.versionId(options.model, options.candidateVersion), options.stableAlias, options.candidateAlias, JSON.stringify(options.plan), at, at);
      const id = Number(result.lastInsertRowid);
      const details = { stableVersion: options.stableVersion, candidateVersion: options.candidateVersion, plan: options.plan, ...options.details };
      this.access.moveAlias({ model: options.model, alias: options.candidateAlias, version: options.candidateVersion, reason: `rollout ${id} started`, command: options.command, ...(options.actor ? { actor: options.actor } : {}), details: { rolloutId: id, ...details } });
      this.events.record({ model: options.model, version: options.candidateVersion, rolloutId: id, kind: "rollout-started", details, ...(options.actor ? { actor: options.actor } : {}) });
      return this.get(id);
    });
  }

  /**
   * Move a running rollout to `stepIndex` / `state` (progressing or paused) and record why. Without an event only the
   * reason changes (a paused rollout's latest cause, whose analysis event is already recorded).
   */
  update(id: number, change: { stepIndex?: number; state?: "progressing" | "paused"; reason?: string }, event?: RolloutEventOptions): RolloutRecord {
    return this.access.write(() => {
      const current = this.requireActive(id);
      this.access.db
        .prepare("UPDATE rollouts SET step_index = ?, state = ?, reason = ?, updated_at = ? WHERE id = ?")
        .run(change.stepIndex ?? current.stepIndex, change.state ?? current.state, change.reason ?? null, this.access.timestamp(), id);
      if (event) this.recordEvent(id, event);
      return this.get(id);
    });
  }

  /** Append an event to a rollout without changing its state (an analysis, a received alert). */
  recordEvent(id: number, event: RolloutEventOptions): ModelEvent {
    const rollout = this.get(id);
    return this.events.record({ model: rollout.model, version: rollout.candidateVersion, rolloutId: id, kind: event.kind, details: event.details ?? {}, ...(event.actor ? { actor: event.actor } : {}) });
  }

  /**
   * End a running rollout. Promoted: the stable alias moves to the candidate. Rolled back or aborted:
   * the candidate alias moves back to the stable version. One transaction with its events.
   */
  finish(id: number, outcome: "promoted" | "rolled-back" | "aborted", options: { reason: string; command: string; details?: Record<string, unknown>; actor?: string }): RolloutRecord {
    return this.access.write(() => {
      const current = this.requireActive(id);
      this.access.db.prepare("UPDATE rollouts SET state = ?, reason = ?, updated_at = ? WHERE id = ?").run(outcome, options.reason, this.access.timestamp(), id);
      const details = { rolloutId: id, outcome, stableVersion: current.stableVersion, candidateVersion: current.candidateVersion, stepIndex: current.stepIndex, ...options.details };
      const actor = options.actor ? { actor: options.actor } : {};
      if (outcome === "promoted") {
        this.access.moveAlias({ model: current.model, alias: current.stableAlias, version: current.candidateVersion, reason: `rollout ${id} promoted: ${options.reason}`, command: options.command, details, ...actor });
      } else {
        this.access.moveAlias({ model: current.model, alias: current.candidateAlias, version: current.stableVersion, reason: `rollout ${id} ${outcome}: ${options.reason}`, command: options.command, details, ...actor });
      }
      this.recordEvent(id, { kind: outcome, details: { reason: options.reason, ...details }, ...actor });
      return this.get(id);
    });
  }

  private requireActive(id: number): RolloutRecord {
    const current = this.get(id);
    if (!(activeStates as readonly string[]).includes(current.state)) {
      throw new EdgeforgeError("REGISTRY_CONFLICT", `rollout ${id} of ${current.model} has already ended (${current.state})`, { hint: "start a new rollout", details: { rolloutId: id, state: current.state } });
    }
    return current;
  }
}
