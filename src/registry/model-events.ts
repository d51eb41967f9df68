import { userInfo } from "node:os";
import type { RegistryAccess } from "./registry-access.js";
import type { ModelEvent, VersionMark } from "./registry-types.js";

export interface RecordModelEventOptions {
  model: string;
  kind: string;
  version?: string;
  rolloutId?: number;
  details?: Record<string, unknown>;
  actor?: string;
}

interface EventRow {
  id: number;
  model: string;
  version: string | null;
  rollout_id: number | null;
  kind: string;
  details_json: string;
  actor: string;
  at: string;
}

/** A model's append-only event history and its version marks. */
export class ModelEvents {
  constructor(private readonly access: RegistryAccess) {}

  /** Append one event (inside the caller's transaction when there is one). */
  record(options: RecordModelEventOptions): ModelEvent {
    const { db } = this.access;
    return this.access.write(() => {
      const modelId = this.access.modelId(options.model);
      const versionId = options.version === undefined ? null : this.access.versionId(options.model, options.version);
      const result = db
        .prepare("INSERT INTO model_events (model_id, version_id, rollout_id, kind, details_json, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(modelId, versionId, options.rolloutId ?? null, options.kind, JSON.stringify(options.details ?? {}), options.actor ?? userInfo().username, this.access.timestamp());
      return this.select("WHERE e.id = ?", [Number(result.lastInsertRowid)], 1)[0] as ModelEvent;
    });
  }

  /** Newest first; `rolloutId` narrows to one rollout. */
  list(model: string, options: { limit?: number; rolloutId?: number } = {}): ModelEvent[] {
    const modelId = this.access.modelId(model);
    return options.rolloutId === undefined
      ? this.select("WHERE e.model_id = ?", [modelId], options.limit ?? 100)
      : this.select("WHERE e.model_id = ? AND e.rollout_id = ?", [modelId, options.rolloutId], options.limit ?? 100);
  }

  private select(where: string, params: unknown[], limit: number): ModelEvent[] {
    const rows = this.access.db
      .prepare(`SELECT e.id, m.name AS model, v.version, e.rollout_id, e.kind, e.details_json, e.actor, e.at FROM model_events e JOIN models m ON m.id = e.model_id LEFT JOIN versions v ON v.id = e.version_id ${where} ORDER BY e.id DESC LIMIT ?`)
      .all(...params, limit) as EventRow[];
    return rows.map((row) => ({
      id: row.id,
      model: row.model,
      ...(row.version === null ? {} : { version: row.version }),
      ...(row.rollout_id === null ? {} : { rolloutId: row.rollout_id }),
      kind: row.kind,
      details: JSON.parse(row.details_json) as Record<string, unknown>,
      actor: row.actor,
      at: row.at,
    }));
  }

  /** Flag a version (e.g. `needs-recalibration`); audited as a `version-marked` event. Marking again updates the reason. */
  mark(options: { model: string; version: string; mark: string; reason: string; details?: Record<string, unknown>; actor?: string }): VersionMark {
    return this.access.write(() => {
      const versionId = this.access.versionId(options.model, options.version);
      const at = this.access.timestamp();
      this.access.db
        .prepare("INSERT INTO version_marks (version_id, mark, reason, details_json, marked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (version_id, mark) DO UPDATE SET reason = excluded.reason, details_json = excluded.details_json, marked_at = excluded.marked_at")
        .run(versionId, options.mark, options.reason, JSON.stringify(options.details ?? {}), at);
      this.record({ model: options.model, version: options.version, kind: "version-marked", details: { mark: options.mark, reason: options.reason, ...options.details }, ...(options.actor ? { actor: options.actor } : {}) });
      return { model: options.model, version: options.version, mark: options.mark, reason: options.reason, details: options.details ?? {}, markedAt: at };
    });
  }

  /** Remove a mark (the reverse of `mark`); audited as `version-unmarked`. Returns whether it was set. */
  unmark(options: { model: string; version: string; mark: string; reason: string; actor?: string }): boolean {
    return this.access.write(() => {
      const versionId = this.access.versionId(options.model, options.version);
      const removed = this.access.db.prepare("DELETE FROM version_marks WHERE version_id = ? AND mark = ?").run(versionId, options.mark).changes > 0;
      if (removed) this.record({ model: options.model, version: options.version, kind: "version-unmarked", details: { mark: options.mark, reason: options.reason }, ...(options.actor ? { actor: options.actor } : {}) });
      return removed;
    });
  }

  marks(model: string): VersionMark[] {
    const rows = this.access.db
      .prepare("SELECT v.version, k.mark, k.reason, k.details_json, k.marked_at FROM version_marks k JOIN versions v ON v.id = k.version_id WHERE v.model_id = ? ORDER BY v.id, k.mark")
      .all(this.access.modelId(model)) as Array<{ version: string; mark: string; reason: string; details_json: string; marked_at: string }>;
    return rows.map((row) => ({ model, version: row.version, mark: row.mark, reason: row.reason, details: JSON.parse(row.details_json) as Record<string, unknown>, markedAt: row.marked_at }));
  }
}
