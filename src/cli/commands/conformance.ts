import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { checkOipConformance, renderConformanceTable } from "../../api/serve.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { exitCodes } from "../exit-codes.js";
import { collect, parsePositiveInt } from "../options.js";
import { printHuman, printJson } from "../output.js";

/** Env variable with a bearer token for servers that require one (kept out of argv). */
const tokenEnvVariable = "EDGEFORGE_CONFORMANCE_TOKEN";

async function readToken(tokenFile: string | undefined): Promise<string | undefined> {
  if (!tokenFile) return process.env[tokenEnvVariable] || undefined;
  let text: string;
  try {
    text = await readFile(tokenFile, "utf8");
  } catch (error) {
    throw fileError(error, tokenFile, "read");
  }
  const token = text.split(/\r?\n/).map((line) => line.trim()).find((line) => line && !line.startsWith("#"));
  if (!token) throw new EdgeforgeError("INVALID_OPTION", `token file ${tokenFile} holds no token`, { hint: "write the token on the first line" });
  return token;
}

export function registerConformanceCommand(program: Command): void {
  program
    .command("conformance")
    .description("Check any Open Inference Protocol (KServe v2 REST) server: health, metadata, infer with each datatype (JSON and binary), error shapes")
    .argument("<url>", "server base URL, e.g. http://127.0.0.1:8080")
    .option("--model <name>", "model to check (repeatable; default: every ready model in the repository index)", collect, [])
    .option("--token-file <path>", `bearer token file (first line); env ${tokenEnvVariable} also works`)
    .option("--timeout <ms>", "per-request timeout in ms", parsePositiveInt, 30_000)
    .option("--json", "print the result as JSON on stdout")
    .action(async (url: string, flags: { model: string[]; tokenFile?: string; timeout: number; json?: boolean }) => {
      const token = await readToken(flags.tokenFile);
      const result = await checkOipConformance(url, { models: flags.model, timeoutMs: flags.timeout, ...(token ? { token } : {}) });
      if (flags.json) printJson(result);
      printHuman(renderConformanceTable(result));
      if (!result.passed) process.exitCode = exitCodes.gatesFailed;
    });
}
