/** Monitoring and drift (docs/monitor.md): what `edgeforge monitor` and `edgeforge alerts` call. */
export { readModelMonitoring, readServedModelNames, type ReadMonitoringOptions } from "../monitor/read-monitoring.js";
export { renderMonitoring } from "../monitor/render-monitoring.js";
export type { ModelMonitoringResponse, VersionMonitoring, DriftSection, DriftReference } from "../monitor/model-monitor.js";
export type { DriftReport, FeatureDrift, DriftMethod } from "../monitor/detect-drift.js";
export type { MonitoredFeature } from "../monitor/request-features.js";
export { alertBudgetsFromCertification, readAlertBudgetsFromFile, readAlertBudgetsFromRegistry, type AlertBudgets, type BudgetOverrides } from "../monitor/alert-budgets.js";
export { buildAlertRules, alertNames, type AlertName, type AlertingRule, type PrometheusRuleGroups } from "../monitor/alert-rules.js";
export { buildAlertRuleTests, type PromtoolRuleTests } from "../monitor/alert-rule-tests.js";
export { buildGrafanaDashboard, type GrafanaDashboard } from "../monitor/grafana-dashboard.js";
export { alertFilePaths, writeAlertFiles, spawnPromtoolChecks, type AlertFiles, type PromtoolCheck } from "../monitor/write-alert-files.js";
