import { userInfo } from "node:os";
import type { Command } from "commander";
import { buildRolloutPlan, parseStepsText, readRolloutAnalysisFile, type RolloutStatus } from "../../api/rollout.js";
import { printHuman, printJson } from "../output.js";
import { callServer } from "../../core/server-client.js";
import { readClientToken } from "../server-client.js";

/** Env variables: the admin bearer token (kept out of argv) and the server URL. */
const tokenEnvVariable = "EDGEFORGE_ADMIN_TOKEN";
const serverEnvVariable = "EDGEFORGE_SERVER";
const defaultServer = "http://127.0.0.1:8080";
const unauthorizedHint = `pass an admin token: --token-file FILE or ${tokenEnvVariable}`;

interface ClientFlags {
  server?: string;
  tokenFile?: string;
  json?: boolean;
}

interface StartFlags extends ClientFlags {
  candidate: string;
  steps?: string;
  interval?: string;
  analysis?: string;
  blueGreen?: boolean;
  stableAlias?: string;
  candidateAlias?: string;
}

function addClientOptions(command: Command): Command {
  return command
    .option("--server <url>", `the edgeforge serve URL (default $${serverEnvVariable} or ${defaultServer})`)
    .option("--token-file <path>", `admin bearer token file (first line); env ${tokenEnvVariable} also works`)
    .option("--json", "print the rollout status as JSON on stdout");
}

async function client(flags: ClientFlags): Promise<{ server: string; token: string | undefined }> {
  return { server: flags.server ?? process.env[serverEnvVariable] ?? defaultServer, token: await readClientToken(flags.tokenFile, tokenEnvVariable) };
}

const percent = (weight: number): string => `${Math.round(weight * 1000) / 10} %`;

/** The status for humans: versions and weights, the step, the last analyses and decisions, newest first in one time line. */
export function renderRolloutStatus(status: RolloutStatus): string {
  const lines = [`${status.model}: ${status.state}${status.reason ? ` — ${status.reason}` : ""}`];
  lines.push(`  stable ${status.stable.version} ${percent(status.stable.weight)}${status.candidate ? ` · candidate ${status.candidate.version} ${percent(status.candidate.weight)}` : ""}`);
  if (status.rolloutId !== undefined) {
    lines.push(`  rollout ${status.rolloutId} (${status.strategy}): step ${status.stepIndex + 1} of ${status.steps.length} [${status.steps.join(", ")} %], analysis every ${status.intervalMs} ms`);
    const history = [
      ...status.decisions.slice(0, 5).map((decision) => ({ atIso: decision.atIso, text: `${decision.kind} by ${decision.actor}${typeof decision.details.reason === "string" ? `: ${decision.details.reason}` : ""}` })),
      ...status.analysis.slice(0, 5).map((entry) => ({ atIso: entry.atIso, text: `step ${entry.step + 1} (${entry.weightPercent} %) ${entry.verdict}: ${entry.reasons.join("; ")}` })),
    ];
    // ISO times of one clock sort as strings; on a tie a decision stays above the analysis that caused it.
    history.sort((a, b) => (a.atIso < b.atIso ? 1 : a.atIso > b.atIso ? -1 : 0));
    for (const { atIso, text } of history) lines.push(`  ${atIso} ${text}`);
  }
  return lines.join("\n");
}

function show(status: RolloutStatus, flags: ClientFlags): void {
  if (flags.json) printJson(status);
  printHuman(renderRolloutStatus(status));
}

const modelPath = (model: string): string => `v2/models/${encodeURIComponent(model)}/rollout`;

export function registerRolloutCommand(program: Command): void {
  const rollout = program.command("rollout").description("Canary and blue-green rollouts on a running `edgeforge serve` (state kept in its registry)");

  addClientOptions(
    rollout
      .command("start")
      .description("Load a registry version beside the stable one and move traffic to it step by step, analysing every interval; rolls back on a breach")
      .argument("<model>", "served model name")
      .requiredOption("--candidate <version>", "registry version to roll out")
      .option("--steps <percents>", "traffic for the candidate per step, increasing, e.g. 5,25,50,100 (default; or from --analysis)")
      .option("--interval <duration>", "analysis interval per step, e.g. 30s (default 30s; or from --analysis)")
      .option("--analysis <file>", "analysis thresholds (YAML or JSON; docs/rollout.md)")
      .option("--blue-green", "no live traffic during analysis (only requests addressed to the candidate's version), then a 0/100 switch")
      .option("--stable-alias <alias>", "alias moved to the candidate on promotion (default: the alias the stable version is served from, else production)")
      .option("--candidate-alias <alias>", "alias pointed at the candidate while it runs (default candidate)"),
  ).action(async (model: string, flags: StartFlags) => {
    // Everything is validated before the server is contacted.
    const file = flags.analysis === undefined ? undefined : await readRolloutAnalysisFile(flags.analysis);
    const plan = buildRolloutPlan({
      ...(flags.steps === undefined ? {} : { steps: parseStepsText(flags.steps) }),
      ...(flags.interval === undefined ? {} : { interval: flags.interval }),
      ...(flags.blueGreen ? { blueGreen: true } : {}),
      ...(file === undefined ? {} : { file }),
    });
    const { server, token } = await client(flags);
    const body = { candidate: flags.candidate, plan, actor: userInfo().username, ...(flags.stableAlias ? { stableAlias: flags.stableAlias } : {}), ...(flags.candidateAlias ? { candidateAlias: flags.candidateAlias } : {}) };
    show(await callServer<RolloutStatus>(server, modelPath(model), { method: "POST", body, unauthorizedHint, ...(token ? { token } : {}) }), flags);
  });

  addClientOptions(rollout.command("status").description("The model's rollout: versions and weights, step, analyses, decisions").argument("<model>")).action(async (model: string, flags: ClientFlags) => {
    const { server, token } = await client(flags);
    show(await callServer<RolloutStatus>(server, modelPath(model), { unauthorizedHint, ...(token ? { token } : {}) }), flags);
  });

  for (const [name, description] of [
    ["promote", "Promote the candidate now (skipping the remaining steps): the stable alias moves to it, it takes all traffic"],
    ["abort", "Stop the rollout: traffic back to the stable version at once, the candidate alias moves back"],
  ] as const) {
    addClientOptions(rollout.command(name).description(description).argument("<model>").option("--reason <text>", "why (kept in the registry's audit history)")).action(async (model: string, flags: ClientFlags & { reason?: string }) => {
      const { server, token } = await client(flags);
      const body = { actor: userInfo().username, ...(flags.reason ? { reason: flags.reason } : {}) };
      show(await callServer<RolloutStatus>(server, `${modelPath(model)}/${name}`, { method: "POST", body, unauthorizedHint, ...(token ? { token } : {}) }), flags);
    });
  }
}
