export {
  buildRolloutPlan,
  checkSteps,
  defaultAnalysis,
  defaultCanarySteps,
  defaultIntervalMs,
  parseIntervalMs,
  parseRolloutPlan,
  parseStepsText,
  readRolloutAnalysisFile,
  rolloutPlanSchema,
  type RolloutAnalysisFile,
  type RolloutAnalysisPolicy,
  type RolloutPlan,
  type RolloutPlanInput,
} from "../rollout/rollout-plan.js";
export { analyzeStep, type AnalysisVerdict, type StepAnalysis, type VersionWindow } from "../rollout/analyze-step.js";
export { histogramQuantile, type HistogramBucket } from "../stats/histogram-quantile.js";
export type { RolloutStatus } from "../rollout/rollout-status.js";
