import { Command } from "commander";
import { version } from "../api/version.js";
import { exitCodes } from "./exit-codes.js";
import { registerHwCommand } from "./commands/hw.js";
import { registerInspectCommand } from "./commands/inspect.js";

export function createProgram(): Command {
  const program = new Command("edgeforge")
    .description("Optimize, validate and measure models for edge devices.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, "error[USAGE]: ")),
    })
    .exitOverride()
    .addHelpText(
      "after",
      `\nExit codes: ${exitCodes.ok} ok · ${exitCodes.error} error · ${exitCodes.usage} usage · ${exitCodes.gatesFailed} quality gates failed · ${exitCodes.partialFailure} some measurements failed · ${exitCodes.internal} internal error`,
    );
  registerHwCommand(program);
  registerInspectCommand(program);
  return program;
}
