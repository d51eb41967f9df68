import type { Command } from "commander";
import { diagnose } from "../../api/index.js";
import { printHuman, printJson } from "../output.js";
import { renderDiagnosis } from "../render/render-optimize.js";

export function registerDiagnoseCommand(program: Command): void {
  program
    .command("diagnose")
    .description("Read an optimize report and explain what limits it: causes and concrete actions, plus the per-framework troubleshooting table")
    .argument("<report>", "report.json written by optimize or run")
    .option("--json", "print the diagnosis as JSON on stdout")
    .action(async (reportPath: string, flags: { json?: boolean }) => {
      const diagnosis = await diagnose(reportPath);
      if (flags.json) printJson(diagnosis);
      else printHuman(renderDiagnosis(diagnosis));
    });
}
