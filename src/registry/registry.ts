import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { EdgeforgeError } from "../core/errors.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { describeArtifactContents, storeArtifact, type ArtifactContents } from "./artifact-store.js";
import { openRegistryDatabase, resolveRegistryPath, type RegistryDatabase } from "./open-registry-database.js";
import { ModelEvents } from "./model-events.js";
import { checkAlias, checkName } from "./registry-names.js";
import type { RegistryAccess } from "./registry-access.js";
import { registrySchemaVersion } from "./registry-schema.js";
import { RolloutRecords } from "./rollout-records.js";
import type {
  AliasEvent,
  AliasRecord,
  ArtifactRecord,
  CertificationRecord,
  EvaluationRecord,
  LineageEdge,
  LineageNode,
  LineagePassStep,
  MetricRecord,
  ResolvedModel,
  VersionRecord,
} from "./registry-types.js";


interface ArtifactRow {
  digest: string;
  format: string;
  size_bytes: number;
  store_path: string | null;
  source_path: string | null;
  created_at: string;
}

interface VersionRow {
  id: number;
  model: string;
  version: string;
  artifact_digest: string;
  created_at: string;
  created_by: string;
  notes: string | null;
}

function notFound(what: string, hint: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("REGISTRY_NOT_FOUND", what, { hint, details });
}

/** `name`, `name@version` or `name@alias`. */
export function parseModelRef(ref: string): { model: string; selector?: string } {
  const at = ref.lastIndexOf("@");
  if (at <= 0) return { model: ref };
  return { model: ref.slice(0, at), selector: ref.slice(at + 1) };
}

export interface RegistryOptions {
  readonly?: boolean;
  busyTimeoutMs?: number;
  /** Injected clock for tests. */
  now?: () => Date;
}

export interface AddVersionOptions {
  model: string;
  /** Model file or folder to copy into the store. */
  path: string;
  /** Default: one more than the number of versions the model has. */
  version?: string;
  notes?: string;
  /** The command that registered it (audit). */
  command: string;
  /** The artifact this one was made from (registered as lineage-only when not yet known). */
  parentPath?: string;
  parentDigest?: string;
  passes?: LineagePassStep[];
  toolVersions?: Record<string, string>;
  signal?: AbortSignal;
}

/** An evaluation to record: the stored record without its id; measuredAt defaults to now. */
export type RecordEvaluationOptions = Omit<EvaluationRecord, "id" | "measuredAt"> & { measuredAt?: string };

export interface SetAliasOptions {
  model: string;
  alias: string;
  version: string;
  reason: string;
  command: string;
  actor?: string;
  details?: Record<string, unknown>;
}

/**
 * The model registry: one SQLite file (WAL) plus a content-addressed store folder beside it.
 * Every write is one immediate transaction, so concurrent writers queue and a crash leaves
 * either the whole write or none of it.
 */
export class Registry {
  readonly path: string;
  readonly storeDir: string;
  private readonly db: RegistryDatabase;
  private readonly now: () => Date;

  /** Model events (rollout steps, automated actions, alerts) and version marks. */
  readonly events: ModelEvents;
  /** Canary / blue-green rollouts, their state and decisions. */
  readonly rollouts: RolloutRecords;

  private constructor(path: string, db: RegistryDatabase, now: () => Date) {
    this.path = path;
    this.storeDir = join(dirname(path), "store");
    this.db = db;
    this.now = now;
    const access: RegistryAccess = {
      db,
      timestamp: () => this.timestamp(),
      write: (fn) => this.write(fn),
      modelId: (name) => this.modelId(name),
      versionId: (model, version) => this.versionId(model, version),
      moveAlias: (options) => this.moveAlias(options),
    };
    this.events = new ModelEvents(access);
    this.rollouts = new RolloutRecords(access, this.events);
  }

  private versionId(model: string, version: string): number {
    const row = this.db.prepare("SELECT id FROM versions WHERE model_id = ? AND version = ?").get(this.modelId(model), version) as { id: number } | undefined;
    if (!row) throw notFound(`"${model}" has no version "${version}"`, `see \`edgeforge registry show ${model}\``, { model, version });
    return row.id;
  }

  static open(path?: string, options: RegistryOptions = {}): Registry {
    const resolved = resolveRegistryPath(path);
    const db = openRegistryDatabase(resolved, { ...(options.readonly ? { readonly: true } : {}), ...(options.busyTimeoutMs ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
    return new Registry(resolved, db, options.now ?? (() => new Date()));
  }

  get schemaVersion(): number {
    return registrySchemaVersion;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private toArtifact(row: ArtifactRow): ArtifactRecord {
    const files = this.db.prepare("SELECT name, sha256, size_bytes AS sizeBytes FROM artifact_files WHERE artifact_digest = ? ORDER BY name").all(row.digest) as ArtifactRecord["files"];
    return {
      digest: row.digest,
      format: row.format,
      sizeBytes: row.size_bytes,
      ...(row.store_path ? { path: join(this.storeDir, row.store_path) } : {}),
      ...(row.source_path ? { sourcePath: row.source_path } : {}),
      files,
      createdAt: row.created_at,
    };
  }

  getArtifact(digest: string): ArtifactRecord | undefined {
    const row = this.db.prepare("SELECT * FROM artifacts WHERE digest = ?").get(digest) as ArtifactRow | undefined;
    return row ? this.toArtifact(row) : undefined;
  }

  private insertArtifact(contents: ArtifactContents, format: string, storePath: string | null, sourcePath: string): void {
    const existing = this.db.prepare("SELECT store_path FROM artifacts WHERE digest = ?").get(contents.digest) as { store_path: string | null } | undefined;
    if (existing) {
      if (existing.store_path === null && storePath !== null) this.db.prepare("UPDATE artifacts SET store_path = ? WHERE digest = ?").run(storePath, contents.digest);
      return;
    }
    this.db.prepare("INSERT INTO artifacts (digest, format, size_bytes, store_path, source_path, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(contents.digest, format, contents.sizeBytes, storePath, sourcePath, this.timestamp());
    const insertFile = this.db.prepare("INSERT INTO artifact_files (artifact_digest, name, sha256, size_bytes) VALUES (?, ?, ?, ?)");
    for (const file of contents.files) insertFile.run(contents.digest, file.name, file.sha256, file.sizeBytes);
  }

  /** Copy a model into the store and record it (no version): idempotent by digest. */
  async addArtifact(path: string, signal?: AbortSignal): Promise<ArtifactRecord> {
    const { format } = await detectModelFormat(path);
    const { contents, storePath } = await storeArtifact(this.storeDir, path, signal);
    this.write(() => this.insertArtifact(contents, format, storePath, path));
    return this.getArtifact(contents.digest) as ArtifactRecord;
  }

  /** Record an artifact that stays where it is (an ancestor known only through lineage). */
  async addArtifactReference(path: string, signal?: AbortSignal): Promise<ArtifactRecord> {
    const { format } = await detectModelFormat(path);
    const contents = await describeArtifactContents(path, signal);
    this.write(() => this.insertArtifact(contents, format, null, path));
    return this.getArtifact(contents.digest) as ArtifactRecord;
  }

  /** Record how `artifactDigest` was made from `parentDigest`. Idempotent. */
  recordLineage(artifactDigest: string, parentDigest: string | undefined, passes: LineagePassStep[], toolVersions: Record<string, string> = {}): void {
    this.write(() => {
      for (const digest of [artifactDigest, parentDigest]) {
        if (digest !== undefined && !this.db.prepare("SELECT 1 FROM artifacts WHERE digest = ?").get(digest)) {
          throw notFound(`no artifact ${digest.slice(0, 12)}… in the registry`, "register the parent first (registry add, or --parent PATH)", { digest });
        }
      }
      this.db
        .prepare("INSERT OR IGNORE INTO lineage (artifact_digest, parent_digest, passes_json, tool_versions_json, recorded_at) VALUES (?, ?, ?, ?, ?)")
        .run(artifactDigest, parentDigest ?? null, JSON.stringify(passes), JSON.stringify(toolVersions), this.timestamp());
    });
  }

  /** Register a model version: store the artifact, create the model if new, record lineage. */
  async addVersion(options: AddVersionOptions): Promise<VersionRecord & { artifact: ArtifactRecord }> {
    checkName("model name", options.model);
    if (options.version !== undefined) checkName("version", options.version);
    const { format } = await detectModelFormat(options.path);
    let parentDigest = options.parentDigest;
    if (options.parentPath !== undefined) parentDigest = (await this.addArtifactReference(options.parentPath, options.signal)).digest;
    const { contents, storePath } = await storeArtifact(this.storeDir, options.path, options.signal);
    const at = this.timestamp();
    const versionId = this.write(() => {
      this.insertArtifact(contents, format, storePath, options.path);
      this.db.prepare("INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)").run(options.model, at);
      const model = this.db.prepare("SELECT id FROM models WHERE name = ?").get(options.model) as { id: number };
      const same = this.db.prepare("SELECT id, version FROM versions WHERE model_id = ? AND artifact_digest = ?").get(model.id, contents.digest) as { id: number; version: string } | undefined;
      if (same && (options.version === undefined || options.version === same.version)) return same.id;
      let version = options.version;
      if (version === undefined) {
        const count = (this.db.prepare("SELECT count(*) AS n FROM versions WHERE model_id = ?").get(model.id) as { n: number }).n;
        version = String(count + 1);
        while (this.db.prepare("SELECT 1 FROM versions WHERE model_id = ? AND version = ?").get(model.id, version)) version = String(Number(version) + 1);
      } else if (this.db.prepare("SELECT 1 FROM versions WHERE model_id = ? AND version = ?").get(model.id, version)) {
        throw new EdgeforgeError("REGISTRY_CONFLICT", `${options.model}@${version} already exists with other contents`, {
          hint: "versions are immutable: pick a new version name (or leave --version out to number it)",
          details: { model: options.model, version },
        });
      }
      const result = this.db
        .prepare("INSERT INTO versions (model_id, version, artifact_digest, created_at, created_by, notes) VALUES (?, ?, ?, ?, ?, ?)")
        .run(model.id, version, contents.digest, at, options.command, options.notes ?? null);
      return Number(result.lastInsertRowid);
    });
    // An artifact registered as its own parent (an unchanged baseline) has no lineage edge.
    if (parentDigest === contents.digest) parentDigest = undefined;
    if (parentDigest !== undefined || (options.passes?.length ?? 0) > 0) this.recordLineage(contents.digest, parentDigest, options.passes ?? [], options.toolVersions ?? {});
    const row = this.versionRow(versionId);
    return { ...this.toVersion(row), artifact: this.getArtifact(contents.digest) as ArtifactRecord };
  }

  private versionRow(id: number): VersionRow {
    return this.db.prepare("SELECT v.*, m.name AS model FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ?").get(id) as VersionRow;
  }

  private toVersion(row: VersionRow): VersionRecord {
    return { model: row.model, version: row.version, artifactDigest: row.artifact_digest, createdAt: row.created_at, createdBy: row.created_by, ...(row.notes ? { notes: row.notes } : {}) };
  }

  private modelId(name: string): number {
    const row = this.db.prepare("SELECT id FROM models WHERE name = ?").get(name) as { id: number } | undefined;
    if (!row) throw notFound(`no model named "${name}" in the registry`, "list models with `edgeforge registry list`", { model: name });
    return row.id;
  }

  private findVersion(model: string, selector: string | undefined): { row: VersionRow; alias?: string } {
    const modelId = this.modelId(model);
    if (selector === undefined) {
      const row = this.db.prepare("SELECT v.*, m.name AS model FROM versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? ORDER BY v.id DESC LIMIT 1").get(modelId) as VersionRow | undefined;
      if (!row) throw notFound(`model "${model}" has no versions`, "register one with `edgeforge registry add`", { model });
      return { row };
    }
    const aliased = this.db.prepare("SELECT version_id FROM aliases WHERE model_id = ? AND alias = ?").get(modelId, selector) as { version_id: number } | undefined;
    if (aliased) return { row: this.versionRow(aliased.version_id), alias: selector };
    const row = this.db.prepare("SELECT v.*, m.name AS model FROM versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? AND v.version = ?").get(modelId, selector) as VersionRow | undefined;
    if (!row) throw notFound(`"${model}" has no alias or version "${selector}"`, `see \`edgeforge registry show ${model}\``, { model, selector });
    return { row };
  }

  /** Resolve `name`, `name@version` or `name@alias` (aliases are looked up first) to its stored artifact. */
  resolve(ref: string): ResolvedModel {
    const { model, selector } = parseModelRef(ref);
    const { row, alias } = this.findVersion(model, selector);
    const artifact = this.getArtifact(row.artifact_digest);
    if (!artifact?.path) throw notFound(`${ref} has no stored copy`, "register the artifact again with `edgeforge registry add`", { ref });
    const certification = this.certificationsOf(row.artifact_digest)[0];
    return { model, version: row.version, ...(alias ? { alias } : {}), artifact: { ...artifact, path: artifact.path }, ...(certification ? { certification } : {}) };
  }

  recordEvaluation(options: RecordEvaluationOptions): number {
    return this.recordEvaluations([options])[0] as number;
  }

  /** Several evaluations in one transaction: all are recorded or none. */
  recordEvaluations(list: readonly RecordEvaluationOptions[]): number[] {
    return this.write(() => list.map((options) => this.insertEvaluation(options)));
  }

  private insertEvaluation(options: RecordEvaluationOptions): number {
    if (!this.db.prepare("SELECT 1 FROM artifacts WHERE digest = ?").get(options.artifactDigest)) {
      throw notFound(`no artifact ${options.artifactDigest.slice(0, 12)}… in the registry`, "register the artifact before its evaluations", { digest: options.artifactDigest });
    }
    const result = this.db
      .prepare("INSERT INTO evaluations (artifact_digest, metrics_json, dataset_digest, hardware_fingerprint, runtime, runtime_version, source, measured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(options.artifactDigest, JSON.stringify(options.metrics), options.datasetDigest ?? null, options.hardwareFingerprint, options.runtime ?? null, options.runtimeVersion ?? null, options.source, options.measuredAt ?? this.timestamp());
    return Number(result.lastInsertRowid);
  }


  evaluationsOf(artifactDigest: string): EvaluationRecord[] {
    const rows = this.db.prepare("SELECT * FROM evaluations WHERE artifact_digest = ? ORDER BY id").all(artifactDigest) as Array<Record<string, string | number | null>>;
    return rows.map((row) => ({
      id: row.id as number,
      artifactDigest: row.artifact_digest as string,
      metrics: JSON.parse(row.metrics_json as string) as MetricRecord[],
      ...(row.dataset_digest ? { datasetDigest: row.dataset_digest as string } : {}),
      hardwareFingerprint: row.hardware_fingerprint as string,
      ...(row.runtime ? { runtime: row.runtime as string } : {}),
      ...(row.runtime_version ? { runtimeVersion: row.runtime_version as string } : {}),
      source: row.source as string,
      measuredAt: row.measured_at as string,
    }));
  }

  recordCertification(options: { artifactDigest: string; approved: boolean; certificate: unknown; signatureBundle?: unknown; attestations?: unknown; keyHint?: string }): number {
    return this.write(() => {
      const result = this.db
        .prepare("INSERT INTO certifications (artifact_digest, approved, certificate_json, signature_bundle_json, attestations_json, key_hint, certified_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(
          options.artifactDigest,
          options.approved ? 1 : 0,
          JSON.stringify(options.certificate),
          options.signatureBundle === undefined ? null : JSON.stringify(options.signatureBundle),
          options.attestations === undefined ? null : JSON.stringify(options.attestations),
          options.keyHint ?? null,
          this.timestamp(),
        );
      return Number(result.lastInsertRowid);
    });
  }

  /** Newest first. */
  certificationsOf(artifactDigest: string): CertificationRecord[] {
    const rows = this.db.prepare("SELECT * FROM certifications WHERE artifact_digest = ? ORDER BY id DESC").all(artifactDigest) as Array<Record<string, string | number | null>>;
    return rows.map((row) => ({
      id: row.id as number,
      artifactDigest: row.artifact_digest as string,
      approved: row.approved === 1,
      certificate: JSON.parse(row.certificate_json as string) as unknown,
      ...(row.signature_bundle_json ? { signatureBundle: JSON.parse(row.signature_bundle_json as string) as unknown } : {}),
      ...(row.attestations_json ? { attestations: JSON.parse(row.attestations_json as string) as unknown } : {}),
      ...(row.key_hint ? { keyHint: row.key_hint as string } : {}),
      certifiedAt: row.certified_at as string,
    }));
  }

  /** Point an alias at a version; the move (from which version, why, by which command) goes into the history. */
  setAlias(options: SetAliasOptions): AliasEvent {
    checkAlias(options.alias);
    return this.write(() => this.moveAlias(options));
  }

  /** The alias move itself, inside the caller's transaction. */
  private moveAlias(options: SetAliasOptions): AliasEvent {
    const modelId = this.modelId(options.model);
    const target = { id: this.versionId(options.model, options.version) };
    const previous = this.db.prepare("SELECT version_id FROM aliases WHERE model_id = ? AND alias = ?").get(modelId, options.alias) as { version_id: number } | undefined;
    const at = this.timestamp();
    this.db
      .prepare("INSERT INTO aliases (model_id, alias, version_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at")
      .run(modelId, options.alias, target.id, at);
    const result = this.db
      .prepare("INSERT INTO alias_events (model_id, alias, from_version_id, to_version_id, reason, command, actor, details_json, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(modelId, options.alias, previous?.version_id ?? null, target.id, options.reason, options.command, options.actor ?? userInfo().username, JSON.stringify(options.details ?? {}), at);
    return this.aliasEvents("WHERE e.id = ?", [Number(result.lastInsertRowid)])[0] as AliasEvent;
  }

  listAliases(model?: string): AliasRecord[] {
    const filter = model === undefined ? "" : "WHERE m.id = ?";
    const rows = this.db
      .prepare(`SELECT m.name AS model, a.alias, v.version, a.updated_at AS updatedAt FROM aliases a JOIN models m ON m.id = a.model_id JOIN versions v ON v.id = a.version_id ${filter} ORDER BY m.name, a.alias`)
      .all(...(model === undefined ? [] : [this.modelId(model)])) as AliasRecord[];
    return rows;
  }

  private aliasEvents(where: string, params: unknown[]): AliasEvent[] {
    const rows = this.db
      .prepare(
        `SELECT e.id, m.name AS model, e.alias, f.version AS fromVersion, t.version AS toVersion, e.reason, e.command, e.actor, e.details_json, e.at
         FROM alias_events e JOIN models m ON m.id = e.model_id
         LEFT JOIN versions f ON f.id = e.from_version_id LEFT JOIN versions t ON t.id = e.to_version_id ${where} ORDER BY e.id`,
      )
      .all(...params) as Array<Record<string, string | number | null>>;
    return rows.map((row) => ({
      id: row.id as number,
      model: row.model as string,
      alias: row.alias as string,
      ...(row.fromVersion ? { fromVersion: row.fromVersion as string } : {}),
      ...(row.toVersion ? { toVersion: row.toVersion as string } : {}),
      reason: row.reason as string,
      command: row.command as string,
      actor: row.actor as string,
      details: JSON.parse(row.details_json as string) as Record<string, unknown>,
      at: row.at as string,
    }));
  }

  /** Every alias move of a model (or of one alias), oldest first. */
  aliasHistory(model: string, alias?: string): AliasEvent[] {
    const modelId = this.modelId(model);
    return alias === undefined ? this.aliasEvents("WHERE e.model_id = ?", [modelId]) : this.aliasEvents("WHERE e.model_id = ? AND e.alias = ?", [modelId, alias]);
  }

  listModels(): Array<{ name: string; versions: number; latestVersion?: string; aliases: Record<string, string>; createdAt: string }> {
    const models = this.db.prepare("SELECT id, name, created_at FROM models ORDER BY name").all() as Array<{ id: number; name: string; created_at: string }>;
    return models.map((model) => {
      const count = (this.db.prepare("SELECT count(*) AS n FROM versions WHERE model_id = ?").get(model.id) as { n: number }).n;
      const latest = this.db.prepare("SELECT version FROM versions WHERE model_id = ? ORDER BY id DESC LIMIT 1").get(model.id) as { version: string } | undefined;
      const aliases = Object.fromEntries(this.listAliases(model.name).map((a) => [a.alias, a.version]));
      return { name: model.name, versions: count, ...(latest ? { latestVersion: latest.version } : {}), aliases, createdAt: model.created_at };
    });
  }

  /** A model with every version, its artifact, evaluations, certifications and aliases. */
  showModel(name: string): { name: string; versions: Array<VersionRecord & { artifact: ArtifactRecord; aliases: string[]; evaluations: EvaluationRecord[]; certifications: Array<Omit<CertificationRecord, "certificate" | "signatureBundle" | "attestations">> }> } {
    const modelId = this.modelId(name);
    const rows = this.db.prepare("SELECT v.*, m.name AS model FROM versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? ORDER BY v.id").all(modelId) as VersionRow[];
    const aliases = this.listAliases(name);
    return {
      name,
      versions: rows.map((row) => ({
        ...this.toVersion(row),
        artifact: this.getArtifact(row.artifact_digest) as ArtifactRecord,
        aliases: aliases.filter((a) => a.version === row.version).map((a) => a.alias),
        evaluations: this.evaluationsOf(row.artifact_digest),
        certifications: this.certificationsOf(row.artifact_digest).map(({ certificate: _c, signatureBundle: _s, attestations: _a, ...rest }) => rest),
      })),
    };
  }

  private versionsPointingAt(digest: string): string[] {
    return (this.db.prepare("SELECT m.name || '@' || v.version AS ref FROM versions v JOIN models m ON m.id = v.model_id WHERE v.artifact_digest = ? ORDER BY v.id").all(digest) as Array<{ ref: string }>).map((r) => r.ref);
  }

  /** The chain of artifacts a model version (or an artifact digest) was made from, newest first. */
  lineage(refOrDigest: string): LineageNode {
    const digest = /^[0-9a-f]{64}$/.test(refOrDigest) ? refOrDigest : this.findVersion(parseModelRef(refOrDigest).model, parseModelRef(refOrDigest).selector).row.artifact_digest;
    const seen = new Set<string>();
    const build = (current: string): LineageNode => {
      const artifact = this.getArtifact(current);
      if (!artifact) throw notFound(`no artifact ${current.slice(0, 12)}… in the registry`, "check the digest", { digest: current });
      seen.add(current);
      const edge = this.db.prepare("SELECT * FROM lineage WHERE artifact_digest = ? ORDER BY id LIMIT 1").get(current) as Record<string, string | null> | undefined;
      const producedBy: LineageEdge | undefined = edge
        ? {
            ...(edge.parent_digest ? { parentDigest: edge.parent_digest } : {}),
            passes: JSON.parse(edge.passes_json as string) as LineagePassStep[],
            toolVersions: JSON.parse(edge.tool_versions_json as string) as Record<string, string>,
            recordedAt: edge.recorded_at as string,
          }
        : undefined;
      const parent = producedBy?.parentDigest && !seen.has(producedBy.parentDigest) ? build(producedBy.parentDigest) : undefined;
      return { artifact, versions: this.versionsPointingAt(current), ...(producedBy ? { producedBy } : {}), ...(parent ? { parent } : {}) };
    };
    return build(digest);
  }

  /** The whole registry as one JSON-ready object (a backup, or input for other tools). */
  export(): Record<string, unknown> {
    const all = (sql: string): unknown[] => this.db.prepare(sql).all();
    const models = this.listModels().map((m) => this.showModel(m.name));
    return {
      schemaVersion: this.schemaVersion,
      exportedAt: this.timestamp(),
      registry: this.path,
      models,
      artifacts: (all("SELECT digest FROM artifacts ORDER BY created_at, digest") as Array<{ digest: string }>).map((a) => this.getArtifact(a.digest)),
      lineage: (all("SELECT * FROM lineage ORDER BY id") as Array<Record<string, string | null>>).map((row) => ({
        artifactDigest: row.artifact_digest,
        parentDigest: row.parent_digest,
        passes: JSON.parse(row.passes_json as string) as unknown,
        toolVersions: JSON.parse(row.tool_versions_json as string) as unknown,
        recordedAt: row.recorded_at,
      })),
      aliasHistory: this.aliasEvents("", []),
      certifications: (all("SELECT DISTINCT artifact_digest FROM certifications") as Array<{ artifact_digest: string }>).flatMap((row) => this.certificationsOf(row.artifact_digest)),
    };
  }
}
