/** One pass as lineage records it: enough to re-run it. */
export interface LineagePassStep {
  passId: string;
  passVersion?: string;
  options: Record<string, unknown>;
}

/** A measured figure with its unit, as evaluations store it. */
export interface MetricRecord {
  name: string;
  value: number;
  unit: string;
}

export interface ArtifactRecord {
  digest: string;
  format: string;
  sizeBytes: number;
  /** Absolute path of the stored copy; undefined when the artifact is only known through lineage. */
  path?: string;
  sourcePath?: string;
  files: Array<{ name: string; sha256: string; sizeBytes: number }>;
  createdAt: string;
}

export interface VersionRecord {
  model: string;
  version: string;
  artifactDigest: string;
  createdAt: string;
  createdBy: string;
  notes?: string;
}

export interface EvaluationRecord {
  id: number;
  artifactDigest: string;
  metrics: MetricRecord[];
  datasetDigest?: string;
  hardwareFingerprint: string;
  runtime?: string;
  runtimeVersion?: string;
  source: string;
  measuredAt: string;
}

export interface CertificationRecord {
  id: number;
  artifactDigest: string;
  approved: boolean;
  certificate: unknown;
  signatureBundle?: unknown;
  attestations?: unknown;
  keyHint?: string;
  certifiedAt: string;
}

export interface AliasRecord {
  model: string;
  alias: string;
  version: string;
  updatedAt: string;
}

/** One move of an alias; the history is append-only. */
export interface AliasEvent {
  id: number;
  model: string;
  alias: string;
  fromVersion?: string;
  /** Undefined when the alias was removed. */
  toVersion?: string;
  reason: string;
  command: string;
  actor: string;
  details: Record<string, unknown>;
  at: string;
}

export interface LineageEdge {
  parentDigest?: string;
  passes: LineagePassStep[];
  toolVersions: Record<string, string>;
  recordedAt: string;
}

/** An artifact and how it was made, back to the first registered ancestor. */
export interface LineageNode {
  artifact: ArtifactRecord;
  /** Versions that point at this artifact, as "model@version". */
  versions: string[];
  producedBy?: LineageEdge;
  parent?: LineageNode;
}

/** What `name@alias` / `name@version` / `name` (latest) resolves to. */
export interface ResolvedModel {
  model: string;
  version: string;
  alias?: string;
  artifact: ArtifactRecord & { path: string };
  /** The newest certification of the artifact, if any (with its OMS bundle). */
  certification?: CertificationRecord;
}

export type RolloutState = "progressing" | "paused" | "promoted" | "rolled-back" | "aborted";

/** A canary or blue-green rollout as the registry keeps it; `plan` is the validated plan (steps, interval, analysis). */
export interface RolloutRecord {
  id: number;
  model: string;
  stableVersion: string;
  candidateVersion: string;
  stableAlias: string;
  candidateAlias: string;
  state: RolloutState;
  stepIndex: number;
  plan: Record<string, unknown>;
  /** Why it is paused, or how it ended. */
  reason?: string;
  startedAt: string;
  updatedAt: string;
}

/** One entry of a model's append-only event history (rollout steps and decisions, automated actions, alerts). */
export interface ModelEvent {
  id: number;
  model: string;
  version?: string;
  rolloutId?: number;
  kind: string;
  details: Record<string, unknown>;
  actor: string;
  at: string;
}

/** A flag on a version, e.g. `needs-recalibration` set by a drift alert. */
export interface VersionMark {
  model: string;
  version: string;
  mark: string;
  reason: string;
  details: Record<string, unknown>;
  markedAt: string;
}
