import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Edge latencies: 0.5 ms … 30 s. */
const latencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Per-token gaps are short: 0.1 ms … 1 s. */
const tokenGapBucketsSeconds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Request payloads: 256 B … 64 MiB, ×4 steps. */
const sizeBucketsBytes = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const confidenceBuckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

const modelLabels = ["model", "version"] as const;

/**
 * The server's Prometheus metrics, on their own registry (never the global one) so several servers
 * can live in one process and later features register beside them through `registry`.
 * Histograms, not summaries: quantiles aggregate across replicas with histogram_quantile.
 */
export function createServerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break the exposition conventions (promtool check metrics rejects them).
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name);
  const registers = [registry];
  return {
    registry,
    requestDuration: new Histogram({ name: "edgeforge_request_duration_seconds", help: "Inference request duration from arrival to response, by protocol and HTTP status", labelNames: [...modelLabels, "protocol", "status"], buckets: latencyBucketsSeconds, registers }),
    queueWait: new Histogram({ name: "edgeforge_queue_wait_seconds", help: "Time a request waited for its model's worker", labelNames: modelLabels, buckets: latencyBucketsSeconds, registers }),
    inferenceDuration: new Histogram({ name: "edgeforge_inference_duration_seconds", help: "Time the runtime spent on a request inside the worker", labelNames: modelLabels, buckets: latencyBucketsSeconds, registers }),
    timeToFirstToken: new Histogram({ name: "edgeforge_time_to_first_token_seconds", help: "LLM: request arrival to the first generated text", labelNames: modelLabels, buckets: latencyBucketsSeconds, registers }),
    interTokenLatency: new Histogram({ name: "edgeforge_inter_token_latency_seconds", help: "LLM: gap between successive generated text chunks", labelNames: modelLabels, buckets: tokenGapBucketsSeconds, registers }),
    inputSize: new Histogram({ name: "edgeforge_request_input_bytes", help: "Inference request body size", labelNames: modelLabels, buckets: sizeBucketsBytes, registers }),
    predictionConfidence: new Histogram({ name: "edgeforge_prediction_confidence", help: "Mean top-1 probability (softmax of scores when outputs are not probabilities) per request", labelNames: modelLabels, buckets: confidenceBuckets, registers }),
    requests: new Counter({ name: "edgeforge_requests_total", help: "Inference requests by model, version, protocol and HTTP status", labelNames: [...modelLabels, "protocol", "status"], registers }),
    tokens: new Counter({ name: "edgeforge_tokens_total", help: "LLM tokens by direction (prompt, completion)", labelNames: [...modelLabels, "direction"], registers }),
    inFlight: new Gauge({ name: "edgeforge_requests_in_flight", help: "Requests running in the model's worker", labelNames: modelLabels, registers }),
    queueDepth: new Gauge({ name: "edgeforge_queue_depth", help: "Requests waiting for the model's worker", labelNames: modelLabels, registers }),
    modelMemory: new Gauge({ name: "edgeforge_model_memory_bytes", help: "Resident memory of the model's worker process, as last reported (with thread isolation: the whole server process)", labelNames: modelLabels, registers }),
    modelReady: new Gauge({ name: "edgeforge_model_ready", help: "1 when the model answers requests, else 0", labelNames: modelLabels, registers }),
    driftScore: new Gauge({ name: "edgeforge_drift_score", help: "Drift of one monitored feature over the window: p-value for KS / chi-square (drift when below 0.05), distance or PSI otherwise (drift when at or above the threshold); docs/monitor.md", labelNames: [...modelLabels, "feature"], registers }),
    drifted: new Gauge({ name: "edgeforge_drifted", help: "1 when at least half of the version's monitored features drifted at the last evaluation, else 0", labelNames: modelLabels, registers }),
    trafficWeight: new Gauge({ name: "edgeforge_traffic_weight", help: "Fraction 0-1 of the model's unversioned requests routed to this version (canary / blue-green split)", labelNames: modelLabels, registers }),
    rolloutStep: new Gauge({ name: "edgeforge_rollout_step", help: "0-based index of the running rollout's current step; -1 when no rollout runs", labelNames: ["model"], registers }),
    workerRestarts: new Counter({ name: "edgeforge_worker_restarts_total", help: "Worker processes restarted after they exited unexpectedly", labelNames: modelLabels, registers }),
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
