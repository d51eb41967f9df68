import { Command } from "commander";
import { version } from "../api/version.js";
import { exitCodes } from "./exit-codes.js";
import { registerBenchCommand } from "./commands/bench.js";
import { registerConvertCommand } from "./commands/convert.js";
import { registerEvalCommand } from "./commands/eval.js";
import { registerHwCommand } from "./commands/hw.js";
import { registerInspectCommand } from "./commands/inspect.js";
import { registerOptimizeCommand } from "./commands/optimize.js";
import { registerRunCommand } from "./commands/run.js";
import { registerQuantizeCommand } from "./commands/quantize.js";
import { registerDiagnoseCommand } from "./commands/diagnose.js";
import { registerCertifyCommand } from "./commands/certify.js";
import { registerKeygenCommand } from "./commands/keygen.js";
import { registerRegistryCommand } from "./commands/registry.js";
import { registerSignCommand } from "./commands/sign.js";
import { registerVerifyCommand } from "./commands/verify.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerConformanceCommand } from "./commands/conformance.js";
import { registerPackageCommand } from "./commands/package.js";
import { registerRolloutCommand } from "./commands/rollout.js";
import { registerMonitorCommand } from "./commands/monitor.js";
import { registerAlertsCommand } from "./commands/alerts.js";

let usageErrorShown = false;

/** Whether commander has already printed a usage error (main prints the ones actions throw). */
export function wasUsageErrorShown(): boolean {
  return usageErrorShown;
}

/** `error[USAGE]: …` plus the `hint:` line every failure carries, naming the command's own --help. */
export function formatUsageError(message: string, commandName: string | undefined): string {
  const text = message.replace(/^error: /, "").trimEnd();
  const help = commandName ? `edgeforge ${commandName} --help` : "edgeforge --help";
  return `error[USAGE]: ${text}\n  hint: run \`${help}\` for the options and their values\n`;
}

function configureUsageOutput(command: Command, commandName: string | undefined): void {
  command.configureOutput({
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    outputError: (text, write) => {
      usageErrorShown = true;
      write(formatUsageError(text, commandName));
    },
  });
}

export function createProgram(): Command {
  const program = new Command("edgeforge")
    .description("Optimize, validate and measure models for edge devices.")
    .version(version, "-V, --version")
    .exitOverride()
    .addHelpText(
      "after",
      `\nExit codes: ${exitCodes.ok} ok · ${exitCodes.error} error · ${exitCodes.usage} usage · ${exitCodes.gatesFailed} quality gates failed · ${exitCodes.partialFailure} some measurements failed · ${exitCodes.internal} internal error · ${exitCodes.interrupted} interrupted (SIGINT) · ${exitCodes.terminated} terminated (SIGTERM)`,
    );
  registerBenchCommand(program);
  registerConvertCommand(program);
  registerEvalCommand(program);
  registerHwCommand(program);
  registerInspectCommand(program);
  registerOptimizeCommand(program);
  registerRunCommand(program);
  registerQuantizeCommand(program);
  registerDiagnoseCommand(program);
  registerCertifyCommand(program);
  registerKeygenCommand(program);
  registerRegistryCommand(program);
  registerSignCommand(program);
  registerVerifyCommand(program);
  registerServeCommand(program);
  registerConformanceCommand(program);
  registerPackageCommand(program);
  registerRolloutCommand(program);
  registerMonitorCommand(program);
  registerAlertsCommand(program);
  configureUsageOutput(program, undefined);
  for (const command of program.commands) configureUsageOutput(command, command.name());
  return program;
}
