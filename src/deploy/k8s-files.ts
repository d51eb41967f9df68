import { stringify } from "yaml";
import { buildAnalysisTemplate, buildDeployment, buildHorizontalPodAutoscaler, buildPodDisruptionBudget, buildPrometheusRule, buildRollout, buildService, type K8sObject, type K8sOptions } from "./k8s-manifests.js";

/** The in-cluster address of a kube-prometheus-stack Prometheus; --prometheus-address for others. */
export const defaultPrometheusAddress = "http://prometheus-operated.monitoring.svc:9090";

/** One YAML stream per file, documents separated by `---`. */
export function renderYamlDocuments(objects: readonly K8sObject[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
}

/**
 * The manifests by file name: the core objects (Deployment, Service, HorizontalPodAutoscaler,
 * PodDisruptionBudget), in progressive-delivery.yaml the Argo Rollouts Rollout and its AnalysisTemplate,
 * and the alert rules as a PrometheusRule.
 */
export function buildK8sObjects(options: K8sOptions): Record<string, K8sObject[]> {
  return {
    "deployment.yaml": [buildDeployment(options)],
    "service.yaml": [buildService(options)],
    "horizontal-pod-autoscaler.yaml": [buildHorizontalPodAutoscaler(options, { apiVersion: "apps/v1", kind: "Deployment" })],
    "pod-disruption-budget.yaml": [buildPodDisruptionBudget(options)],
    "progressive-delivery.yaml": [buildAnalysisTemplate(options), buildRollout(options)],
    "prometheus-rule.yaml": [buildPrometheusRule(options)],
  };
}

export function renderK8sManifests(options: K8sOptions): Record<string, string> {
  return Object.fromEntries(Object.entries(buildK8sObjects(options)).map(([name, objects]) => [name, renderYamlDocuments(objects)]));
}
