import { alertBudgetsFromCertification, latencySeriesFor } from "../monitor/alert-budgets.js";
import { buildAlertRules } from "../monitor/alert-rules.js";
import type { CertificationFacts } from "./certification-facts.js";
import { cpuQuantity, memoryQuantity, type DeploymentSizing } from "./deployment-sizing.js";
import { containerUid } from "./docker-files.js";
import { serveArguments, type ServedModel } from "./served-model.js";

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

export interface K8sOptions {
  model: ServedModel;
  sizing: DeploymentSizing;
  certification: CertificationFacts;
  image: string;
  replicas: number;
  maxReplicas: number;
  drainMs: number;
  /** Where Argo Rollouts' analysis reaches Prometheus. */
  prometheusAddress: string;
  artifactSha256: string;
}

/** Seconds, as PromQL and Argo expressions take them, from a millisecond budget. */
const seconds = (ms: number): string => String(Number((ms / 1000).toPrecision(6)));

export function appName(model: ServedModel): string {
  return `edgeforge-${model.name}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63).replace(/-+$/, "");
}

function labels(model: ServedModel): Record<string, string> {
  return {
    "app.kubernetes.io/name": appName(model),
    "app.kubernetes.io/version": model.version.slice(0, 63),
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/managed-by": "edgeforge",
  };
}

const selector = (model: ServedModel): Record<string, string> => ({ "app.kubernetes.io/name": appName(model) });

/**
 * The Deployment: requests/limits from the certification, startup/readiness on the OIP ready route
 * (the startup probe allows 5 minutes for the model to load), liveness on the live route, non-root
 * with a read-only root file system (a small /tmp emptyDir), no service-account token.
 */
export function buildDeployment(options: K8sOptions): K8sObject {
  const { model, sizing } = options;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({ httpGet: { path, port: "http" }, periodSeconds, timeoutSeconds: 3, failureThreshold });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: appName(model), labels: labels(model) },
    spec: {
      replicas: options.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(model) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels(model),
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(model.port), "prometheus.io/path": "/metrics", "edgeforge.dev/artifact-sha256": options.artifactSha256 },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: Math.ceil(options.drainMs / 1000) + 5,
          securityContext: { runAsNonRoot: true, runAsUser: containerUid, runAsGroup: containerUid, fsGroup: containerUid, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "serve",
              image: options.image,
              imagePullPolicy: "IfNotPresent",
              args: serveArguments(model),
              ports: [{ name: "http", containerPort: model.port, protocol: "TCP" }],
              resources: {
                requests: { cpu: cpuQuantity(sizing.cpuRequest), memory: memoryQuantity(sizing.memoryRequestBytes) },
                limits: { cpu: cpuQuantity(sizing.cpuLimit), memory: memoryQuantity(sizing.memoryLimitBytes) },
              },
              startupProbe: probe("/v2/health/ready", 5, 60),
              readinessProbe: probe("/v2/health/ready", 5, 2),
              livenessProbe: probe("/v2/health/live", 10, 3),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, privileged: false, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}

export function buildService(options: K8sOptions): K8sObject {
  const { model } = options;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: appName(model), labels: labels(model) },
    spec: { type: "ClusterIP", selector: selector(model), ports: [{ name: "http", port: model.port, targetPort: "http", protocol: "TCP" }] },
  };
}

/** Scales on CPU against the request; one replica carries the throughput certify measured (in the README). */
export function buildHorizontalPodAutoscaler(options: K8sOptions, target: { apiVersion: string; kind: string }): K8sObject {
  const { model } = options;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: appName(model), labels: labels(model) },
    spec: {
      scaleTargetRef: { apiVersion: target.apiVersion, kind: target.kind, name: appName(model) },
      minReplicas: options.replicas,
      maxReplicas: options.maxReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } },
    },
  };
}

export function buildPodDisruptionBudget(options: K8sOptions): K8sObject {
  const { model } = options;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: appName(model), labels: labels(model) },
    spec: { minAvailable: Math.max(1, options.replicas - 1), selector: { matchLabels: selector(model) } },
  };
}

export interface AnalysisQuery {
  name: string;
  query: string;
  successCondition: string;
}

/**
 * The canary's checks as PromQL over serve's metric names, selected by model and the canary's version
 * (`{{args.version}}`), with the certification's budgets: p95 and p99 of 2xx answers, 5xx share.
 */
export function analysisQueries(options: K8sOptions): AnalysisQuery[] {
  const { model, certification } = options;
  const match = `model="${model.name}",version="{{args.version}}"`;
  const window = "2m";
  const { metric, matchers } = latencySeriesFor(certification.artifact.format);
  const quantile = (q: number): string => `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket{${match}${matchers}}[${window}])))`;
  const { p95BudgetMs, p99BudgetMs } = certification.monitoring.latency;
  return [
    { name: "p95-latency", query: quantile(0.95), successCondition: `result[0] <= ${seconds(p95BudgetMs)}` },
    { name: "p99-latency", query: quantile(0.99), successCondition: `result[0] <= ${seconds(p99BudgetMs)}` },
    {
      name: "error-rate",
      query: `sum(rate(edgeforge_requests_total{${match},status=~"5.."}[${window}])) / sum(rate(edgeforge_requests_total{${match}}[${window}]))`,
      successCondition: `isNaN(result[0]) || result[0] <= ${certification.monitoring.errorRateThreshold}`,
    },
  ];
}

export function analysisTemplateName(model: ServedModel): string {
  return `${appName(model)}-canary`;
}

/** Argo Rollouts AnalysisTemplate: each query every minute, five times; one failure aborts the canary. */
export function buildAnalysisTemplate(options: K8sOptions): K8sObject {
  const { model } = options;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name: analysisTemplateName(model), labels: labels(model) },
    spec: {
      args: [{ name: "version" }, { name: "prometheus-address", value: options.prometheusAddress }],
      metrics: analysisQueries(options).map((q) => ({
        name: q.name,
        interval: "1m",
        count: 5,
        failureLimit: 1,
        successCondition: q.successCondition,
        provider: { prometheus: { address: "{{args.prometheus-address}}", query: q.query } },
      })),
    },
  };
}

/**
 * Argo Rollouts canary over the Deployment (workloadRef: the Deployment stays the one pod template,
 * scaled down progressively as the Rollout takes over): 10 % → analysis → 50 % → analysis → 100 %.
 */
export function buildRollout(options: K8sOptions): K8sObject {
  const { model } = options;
  const analysis = { analysis: { templates: [{ templateName: analysisTemplateName(model) }], args: [{ name: "version", value: model.version }] } };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name: appName(model), labels: labels(model) },
    spec: {
      replicas: options.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(model) },
      workloadRef: { apiVersion: "apps/v1", kind: "Deployment", name: appName(model), scaleDown: "progressively" },
      strategy: {
        canary: {
          maxSurge: 1,
          maxUnavailable: 0,
          steps: [{ setWeight: 10 }, { pause: { duration: "2m" } }, analysis, { setWeight: 50 }, { pause: { duration: "5m" } }, analysis],
        },
      },
    },
  };
}

/**
 * The alert rules `edgeforge alerts` writes (src/monitor: latency p95/p99, error rate, throughput
 * drop, drift, not ready), with the certification's budgets, as a prometheus-operator PrometheusRule.
 */
export function buildPrometheusRule(options: K8sOptions): K8sObject {
  const { model } = options;
  const budgets = alertBudgetsFromCertification(model.name, options.certification, `certification of ${options.certification.artifact.name} (sha256 ${options.artifactSha256.slice(0, 12)}…, ${options.certification.validatedAt})`);
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: appName(model), labels: { ...labels(model), release: "kube-prometheus-stack" } },
    spec: buildAlertRules(budgets),
  };
}
