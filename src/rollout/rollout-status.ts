import type { RolloutRecord } from "../registry/registry-types.js";
import type { StepAnalysis } from "./analyze-step.js";
import type { RolloutPlan } from "./rollout-plan.js";

/** The `GET /v2/models/{model}/rollout` document (docs/rollout.md). Weights are fractions 0–1, steps percents. */
export interface RolloutStatus {
  model: string;
  registryModel?: string;
  stable: { version: string; weight: number };
  candidate: { version: string; weight: number } | null;
  state: "idle" | RolloutRecord["state"];
  strategy?: RolloutPlan["strategy"];
  stepIndex: number;
  steps: number[];
  intervalMs: number;
  rolloutId?: number;
  reason?: string;
  startedAtIso?: string;
  updatedAtIso?: string;
  analysis: Array<{ step: number; weightPercent: number; atIso: string; verdict: StepAnalysis["verdict"]; measured: StepAnalysis["measured"]; thresholds: StepAnalysis["thresholds"]; reasons: string[] }>;
  decisions: Array<{ atIso: string; kind: string; actor: string; details: Record<string, unknown> }>;
}
