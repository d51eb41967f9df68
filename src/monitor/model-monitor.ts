import { percentileOfSorted } from "../stats/describe-samples.js";
import { detectDrift, driftDefaults, type DriftMethodChoice, type DriftReport, type FeatureDrift } from "./detect-drift.js";
import type { MonitoredFeature } from "./request-features.js";

/** Per-request features of a reference dataset, one column per feature (in the plan's order). */
export interface DriftReference {
  /** Where the rows came from (dataset path). */
  source: string;
  rows: number;
  columns: Float64Array[];
}

export interface ModelMonitorOptions {
  /** The window: the most recent this many requests. */
  windowRequests: number;
  method: DriftMethodChoice;
}

export const defaultMonitorOptions: ModelMonitorOptions = { windowRequests: 500, method: "auto" };

/** One request as the monitor records it. */
export interface MonitoredRequest {
  latencyMs: number;
  /** HTTP status: 5xx counts as an error; latency percentiles are over 2xx answers. */
  status: number;
  /** Feature values in plan order (successful requests: an ONNX request's tensors, an LLM request's prompt). */
  features?: Float64Array;
}

export interface DriftSection {
  /** "evaluated"; "no-reference" (serve without --reference); "too-few-rows" (fewer than 30 in the window). */
  status: "evaluated" | "no-reference" | "too-few-rows" | "not-evaluated";
  reference: { source: string; rows: number } | null;
  referenceRows: number;
  windowRows: number;
  method: DriftMethodChoice;
  thresholds: { pValue: number; distance: number; psiWarn: number; psiAlert: number; driftedShare: number; minWindowRows: number };
  features: FeatureDrift[];
  driftedShare: number;
  drifted: boolean;
  /** When the drift was last computed (ISO 8601), null before. */
  evaluatedAt: string | null;
  /** `requestsSeen` at that evaluation: equal to it when the figures cover every request so far. */
  evaluatedAtRequest: number | null;
}

/** A version's live figures: the contract of GET /v2/models/{m}/monitoring, `edgeforge monitor` and the dashboard. */
export interface VersionMonitoring {
  /** Requests recorded since the version loaded (the window holds the last of them). */
  requestsSeen: number;
  window: { requests: number; seconds: number; capacityRequests: number };
  latencyMs: { p50: number; p95: number; p99: number } | null;
  /** Share of requests in the window answered with a 5xx status; null with no requests. */
  errorRate: number | null;
  /** Requests in the window divided by the seconds from its oldest request to now. */
  throughputRps: number | null;
  predictions: {
    rows: number;
    confidence: { mean: number; p10: number; p50: number; p90: number } | null;
    /** Share of each top-1 class in the window (classifiers), most frequent first, at most 10. */
    classShares: Array<{ id: number; share: number }>;
  };
  drift: DriftSection;
}

/** GET /v2/models/{model}/monitoring: every served version of the model (or the one named), as `edgeforge monitor` and the dashboard read it. */
export interface ModelMonitoringResponse {
  model: string;
  versions: Array<VersionMonitoring & { version: string; ready: boolean; features: MonitoredFeature[] }>;
}

/**
 * A served version's recent requests in fixed ring buffers (typed arrays, no per-request objects)
 * and its drift against a reference. `record` is O(features); `evaluateDrift` runs off the request
 * path (the server's timer), bounded by the window and reference sizes.
 */
export class ModelMonitor {
  private features: MonitoredFeature[] = [];
  private reference: DriftReference | undefined;
  private readonly capacity: number;
  private readonly latencyMs: Float64Array;
  private readonly status: Uint16Array;
  private readonly atMs: Float64Array;
  private readonly hasFeatures: Uint8Array;
  private featureRows = new Float64Array(0);
  private count = 0;
  private next = 0;
  private recorded = 0;
  private evaluatedAtRecord = -1;
  private lastDrift: { report: DriftReport; atMs: number } | undefined;

  constructor(
    readonly options: ModelMonitorOptions = defaultMonitorOptions,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.capacity = options.windowRequests;
    this.latencyMs = new Float64Array(this.capacity);
    this.status = new Uint16Array(this.capacity);
    this.atMs = new Float64Array(this.capacity);
    this.hasFeatures = new Uint8Array(this.capacity);
  }

  /** Set once the model has loaded: its feature plan and (with --reference) the reference's feature columns. */
  configure(features: MonitoredFeature[], reference?: DriftReference): void {
    this.features = features;
    this.reference = reference;
    this.featureRows = new Float64Array(this.capacity * features.length);
    this.hasFeatures.fill(0);
    this.lastDrift = undefined;
    this.evaluatedAtRecord = -1;
  }

  get monitoredFeatures(): readonly MonitoredFeature[] {
    return this.features;
  }

  record(request: MonitoredRequest): void {
    const slot = this.next;
    this.latencyMs[slot] = request.latencyMs;
    this.status[slot] = request.status;
    this.atMs[slot] = this.nowMs();
    const width = this.features.length;
    const ok = request.features !== undefined && request.features.length === width && width > 0;
    this.hasFeatures[slot] = ok ? 1 : 0;
    if (ok) this.featureRows.set(request.features!, slot * width);
    this.next = (slot + 1) % this.capacity;
    this.count = Math.min(this.capacity, this.count + 1);
    this.recorded += 1;
  }

  /** The window's feature columns (successful requests only), oldest first. */
  windowColumns(): Float64Array[] {
    const width = this.features.length;
    const slots: number[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const slot = (this.next - this.count + i + this.capacity) % this.capacity;
      if (this.hasFeatures[slot] === 1) slots.push(slot);
    }
    return this.features.map((_, k) => Float64Array.from(slots, (slot) => this.featureRows[slot * width + k]!));
  }

  /** Recompute drift when requests arrived since the last evaluation; returns the latest report. */
  evaluateDrift(): DriftReport | undefined {
    if (!this.reference || this.recorded === this.evaluatedAtRecord) return this.lastDrift?.report;
    const window = this.windowColumns();
    if ((window[0]?.length ?? 0) < driftDefaults.minWindowRows) return this.lastDrift?.report;
    this.evaluatedAtRecord = this.recorded;
    this.lastDrift = { report: detectDrift(this.features, this.reference.columns, window, this.options.method), atMs: this.nowMs() };
    return this.lastDrift.report;
  }

  snapshot(): VersionMonitoring {
    const now = this.nowMs();
    const okLatencies: number[] = [];
    let errors = 0;
    let oldest = now;
    for (let i = 0; i < this.count; i += 1) {
      const slot = (this.next - this.count + i + this.capacity) % this.capacity;
      const status = this.status[slot]!;
      if (status >= 500) errors += 1;
      else if (status < 300) okLatencies.push(this.latencyMs[slot]!);
      oldest = Math.min(oldest, this.atMs[slot]!);
    }
    const sorted = Float64Array.from(okLatencies).sort();
    const seconds = this.count > 0 ? Math.max(1e-3, (now - oldest) / 1000) : 0;
    const columns = this.windowColumns();
    return {
      requestsSeen: this.recorded,
      window: { requests: this.count, seconds, capacityRequests: this.capacity },
      latencyMs: sorted.length > 0 ? { p50: percentileOfSorted(sorted, 0.5), p95: percentileOfSorted(sorted, 0.95), p99: percentileOfSorted(sorted, 0.99) } : null,
      errorRate: this.count > 0 ? errors / this.count : null,
      throughputRps: this.count > 0 ? this.count / seconds : null,
      predictions: this.predictionSummary(columns),
      drift: this.driftSection(columns[0]?.length ?? 0),
    };
  }

  private predictionSummary(columns: Float64Array[]): VersionMonitoring["predictions"] {
    const confidenceColumn = columns[this.features.findIndex((f) => f.name === "prediction.confidence")];
    const classColumn = columns[this.features.findIndex((f) => f.name === "prediction.class")];
    const confidences = confidenceColumn ? Float64Array.from(confidenceColumn.filter(Number.isFinite)).sort() : new Float64Array(0);
    let sum = 0;
    for (const value of confidences) sum += value;
    const counts = new Map<number, number>();
    for (const id of classColumn ?? []) if (Number.isFinite(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const classRows = [...counts.values()].reduce((a, b) => a + b, 0);
    return {
      rows: columns[0]?.length ?? 0,
      confidence: confidences.length > 0 ? { mean: sum / confidences.length, p10: percentileOfSorted(confidences, 0.1), p50: percentileOfSorted(confidences, 0.5), p90: percentileOfSorted(confidences, 0.9) } : null,
      classShares: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([id, count]) => ({ id, share: count / classRows })),
    };
  }

  private driftSection(windowRows: number): DriftSection {
    const { pValue, distance, psiWarn, psiAlert, driftedShare, minWindowRows } = driftDefaults;
    const report = this.lastDrift?.report;
    const status = !this.reference ? "no-reference" : report ? "evaluated" : windowRows < minWindowRows ? "too-few-rows" : "not-evaluated";
    return {
      status,
      reference: this.reference ? { source: this.reference.source, rows: this.reference.rows } : null,
      referenceRows: report?.referenceRows ?? this.reference?.rows ?? 0,
      windowRows: report?.windowRows ?? windowRows,
      method: this.options.method,
      thresholds: { pValue, distance, psiWarn, psiAlert, driftedShare, minWindowRows },
      features: report?.features ?? [],
      driftedShare: report?.driftedShare ?? 0,
      drifted: report?.drifted ?? false,
      evaluatedAt: this.lastDrift ? new Date(this.lastDrift.atMs).toISOString() : null,
      evaluatedAtRequest: this.lastDrift ? this.evaluatedAtRecord : null,
    };
  }
}
