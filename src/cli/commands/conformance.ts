import type { Command } from "commander";
import { checkOipConformance, renderConformanceTable } from "../../api/serve.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { exitCodes } from "../exit-codes.js";
import { collect, parsePositiveInt } from "../options.js";
import { printHuman, printJson } from "../output.js";
import { readClientToken } from "../server-client.js";

/** Env variable with a bearer token for servers that require one (kept out of argv). */
const tokenEnvVariable = "EDGEFORGE_CONFORMANCE_TOKEN";

export function registerConformanceCommand(program: Command): void {
  program
    .command("conformance")
    .description("Check any Open Inference Protocol (KServe v2 REST) server: health, metadata, infer with each datatype (JSON and binary), error shapes")
    .argument("<url>", "server base URL, e.g. http://127.0.0.1:8080")
    .option("--model <name>", "model to check (repeatable; default: every ready model in the repository index)", collect, [])
    .option("--shape <name=DxD...>", "shape of an input by name where the metadata leaves dims dynamic (-1 → 1 for the first axis, else 2), e.g. input=1x512 (repeatable)", collect, [])
    .option("--token-file <path>", `bearer token file (first line); env ${tokenEnvVariable} also works`)
    .option("--timeout <ms>", "per-request timeout in ms", parsePositiveInt, 30_000)
    .option("--json", "print the result as JSON on stdout")
    .action(async (url: string, flags: { model: string[]; shape: string[]; tokenFile?: string; timeout: number; json?: boolean }) => {
      const token = await readClientToken(flags.tokenFile, tokenEnvVariable);
      const result = await checkOipConformance(url, { models: flags.model, shapes: parseShapeOverrides(flags.shape), timeoutMs: flags.timeout, ...(token ? { token } : {}) });
      if (flags.json) printJson(result);
      printHuman(renderConformanceTable(result));
      if (!result.passed) process.exitCode = exitCodes.gatesFailed;
    });
}
