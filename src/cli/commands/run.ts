import type { Command } from "commander";
import { runPipelineFile } from "../../api/index.js";
import { exitCodes } from "../exit-codes.js";
import { createStderrProgress, printHuman, printJson, stderrLogger } from "../output.js";
import { renderOptimizeSummary } from "../render/render-optimize.js";

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("Run a pipeline file: stages validation, optimization, testing, packaging")
    .argument("<pipeline>", "pipeline file (YAML or JSON, schemaVersion 1)")
    .option("--memory-budget <size>", "override the target's memory budget, e.g. 512MB")
    .option("--json", "print the pipeline result (with the report) on stdout")
    .action(async (pipelinePath: string, flags: { memoryBudget?: string; json?: boolean }) => {
      const result = await runPipelineFile(pipelinePath, { logger: stderrLogger, progress: createStderrProgress(), ...(flags.memoryBudget ? { memoryBudget: flags.memoryBudget } : {}) });
      if (flags.json) printJson(result);
      if (result.report) printHuman(renderOptimizeSummary(result.report));
      for (const stage of result.stages) {
        printHuman(`stage ${stage.stage}: ${stage.status}${stage.durationMs > 0 ? ` (${(stage.durationMs / 1000).toFixed(1)} s)` : ""}`);
        for (const note of stage.notes) printHuman(`  ${note}`);
      }
      printHuman(`pipeline ${result.name}: ${result.verdict} (${result.resultPath})`);
      if (result.verdict !== "passed") process.exitCode = exitCodes.gatesFailed;
    });
}
