/**
 * The registry's schema as an ordered list of migrations. `PRAGMA user_version` holds the last one
 * applied; each runs once, inside one immediate transaction with the version bump, so a crash
 * leaves either the old schema or the new one. Never edit a shipped migration: append a new one.
 */
export interface RegistryMigration {
  version: number;
  description: string;
  sql: string;
}

/** `PRAGMA application_id` of an edgeforge registry ("EFRG"), so another program's SQLite file is refused. */
export const registryApplicationId = 0x45465247;

export const registryMigrations: readonly RegistryMigration[] = [
  {
    version: 1,
    description: "models, versions, content-addressed artifacts, lineage, evaluations, certifications, aliases and their audit history",
    sql: `
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE artifacts (
        digest TEXT PRIMARY KEY,            -- sha256 of the file; for a folder the OMS root digest over its files' digests
        format TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        store_path TEXT,                    -- relative to the store folder; NULL when only known through lineage
        source_path TEXT,                   -- where it was registered from (informative)
        created_at TEXT NOT NULL
      );
      CREATE TABLE artifact_files (
        artifact_digest TEXT NOT NULL REFERENCES artifacts(digest),
        name TEXT NOT NULL,                 -- POSIX path inside the artifact; "." for a single file
        sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (artifact_digest, name)
      );
      CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id),
        version TEXT NOT NULL,
        artifact_digest TEXT NOT NULL REFERENCES artifacts(digest),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,           -- the command that registered it
        notes TEXT,
        UNIQUE (model_id, version)
      );
      CREATE TABLE lineage (
        id INTEGER PRIMARY KEY,
        artifact_digest TEXT NOT NULL REFERENCES artifacts(digest),
        parent_digest TEXT REFERENCES artifacts(digest),
        passes_json TEXT NOT NULL,          -- [{passId, passVersion, options}] applied in order to the parent
        tool_versions_json TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (artifact_digest, parent_digest, passes_json)
      );
      CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY,
        artifact_digest TEXT NOT NULL REFERENCES artifacts(digest),
        metrics_json TEXT NOT NULL,         -- [{name, value, unit}]
        dataset_digest TEXT,
        hardware_fingerprint TEXT NOT NULL,
        runtime TEXT,
        runtime_version TEXT,
        source TEXT NOT NULL,               -- the command or report it came from
        measured_at TEXT NOT NULL
      );
      CREATE INDEX evaluations_by_artifact ON evaluations(artifact_digest);
      CREATE TABLE certifications (
        id INTEGER PRIMARY KEY,
        artifact_digest TEXT NOT NULL REFERENCES artifacts(digest),
        approved INTEGER NOT NULL,
        certificate_json TEXT NOT NULL,     -- certification.json as written
        signature_bundle_json TEXT,         -- the OMS bundle over the artifact
        attestations_json TEXT,             -- signed in-toto attestations (provenance, test result, verification summary)
        key_hint TEXT,
        certified_at TEXT NOT NULL
      );
      CREATE INDEX certifications_by_artifact ON certifications(artifact_digest);
      CREATE TABLE aliases (
        model_id INTEGER NOT NULL REFERENCES models(id),
        alias TEXT NOT NULL,
        version_id INTEGER NOT NULL REFERENCES versions(id),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model_id, alias)
      );
      -- Every alias move, append-only: rollouts and rollbacks are read from here.
      CREATE TABLE alias_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id INTEGER NOT NULL REFERENCES models(id),
        alias TEXT NOT NULL,
        from_version_id INTEGER REFERENCES versions(id),
        to_version_id INTEGER REFERENCES versions(id),   -- NULL when the alias was removed
        reason TEXT NOT NULL,
        command TEXT NOT NULL,
        actor TEXT NOT NULL,
        details_json TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL
      );
      CREATE INDEX alias_events_by_alias ON alias_events(model_id, alias, id);
    `,
  },
  {
    version: 2,
    description: "rollouts (canary / blue-green state, one active per model), model events (rollout steps, analyses, automated actions), version marks",
    sql: `
      CREATE TABLE rollouts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id INTEGER NOT NULL REFERENCES models(id),
        stable_version_id INTEGER NOT NULL REFERENCES versions(id),
        candidate_version_id INTEGER NOT NULL REFERENCES versions(id),
        stable_alias TEXT NOT NULL,         -- moved to the candidate on promotion
        candidate_alias TEXT NOT NULL,      -- points at the candidate while it runs, moved back on rollback
        state TEXT NOT NULL,                -- progressing | paused | promoted | rolled-back | aborted
        step_index INTEGER NOT NULL,
        plan_json TEXT NOT NULL,            -- steps, intervalMs, analysis thresholds
        reason TEXT,                        -- why it is paused or how it ended
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX rollouts_one_active ON rollouts(model_id) WHERE state IN ('progressing', 'paused');
      -- Append-only: every rollout step, analysis and decision, every automated action and received alert.
      CREATE TABLE model_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id INTEGER NOT NULL REFERENCES models(id),
        version_id INTEGER REFERENCES versions(id),
        rollout_id INTEGER REFERENCES rollouts(id),
        kind TEXT NOT NULL,
        details_json TEXT NOT NULL DEFAULT '{}',
        actor TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX model_events_by_model ON model_events(model_id, id);
      CREATE TABLE version_marks (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        mark TEXT NOT NULL,                 -- e.g. needs-recalibration
        reason TEXT NOT NULL,
        details_json TEXT NOT NULL DEFAULT '{}',
        marked_at TEXT NOT NULL,
        PRIMARY KEY (version_id, mark)
      );
    `,
  },
];

export const registrySchemaVersion = registryMigrations[registryMigrations.length - 1]?.version ?? 0;
