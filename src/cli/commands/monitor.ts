import type { Command } from "commander";
import { readModelMonitoring, readServedModelNames, renderMonitoring, type ModelMonitoringResponse } from "../../api/monitor.js";
import { EdgeforgeError } from "../../core/errors.js";
import { collect, millisecondsParser, parsePositiveInt } from "../options.js";
import { printHuman, printJson } from "../output.js";

interface MonitorFlags {
  model: string[];
  once?: boolean;
  interval: number;
  count?: number;
  json?: boolean;
}

async function readAll(url: string, models: string[]): Promise<ModelMonitoringResponse[]> {
  const names = models.length > 0 ? models : await readServedModelNames(url);
  if (names.length === 0) throw new EdgeforgeError("MODEL_NOT_FOUND", `${url} serves no model`, { hint: "start edgeforge serve with --model" });
  return Promise.all(names.map((name) => readModelMonitoring(url, name)));
}

export function registerMonitorCommand(program: Command): void {
  program
    .command("monitor")
    .description("Live p50/p95/p99 latency, error rate, throughput and drift of every model an edgeforge server serves (GET /v2/models/{m}/monitoring)")
    .argument("<url>", "server base URL, e.g. http://127.0.0.1:8080")
    .option("--model <name>", "model to show (repeatable; default: every served model, from /metrics)", collect, [])
    .option("--once", "print one view and exit")
    .option("--interval <duration>", "refresh period, ms or with a unit (2000, 2s)", millisecondsParser(1), 2000)
    .option("--count <n>", "stop after n views (default: until Ctrl-C)", parsePositiveInt)
    .option("--json", "print the monitoring JSON on stdout (one document per view) instead of the table")
    .action(async (url: string, flags: MonitorFlags) => {
      const views = flags.once ? 1 : (flags.count ?? Number.POSITIVE_INFINITY);
      const live = views > 1 && process.stderr.isTTY === true && !flags.json;
      for (let view = 1; view <= views; view += 1) {
        try {
          const models = await readAll(url, flags.model);
          if (flags.json) printJson(models);
          // a terminal redraws in place; a pipe gets one block per view
          else printHuman(`${live ? "\x1b[2J\x1b[H" : ""}${renderMonitoring(url, models, new Date())}`);
        } catch (error) {
          if (views === 1 || !EdgeforgeError.isInstance(error) || error.code !== "SERVER_UNREACHABLE") throw error;
          printHuman(`warning: ${error.message}; retrying in ${flags.interval} ms`);
        }
        if (view < views) await new Promise((resolve) => setTimeout(resolve, flags.interval));
      }
    });
}
