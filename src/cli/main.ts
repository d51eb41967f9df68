#!/usr/bin/env node
import { CommanderError } from "commander";
import { exitCodes } from "./exit-codes.js";
import { reportFailure } from "./output.js";
import { createProgram, formatUsageError, wasUsageErrorShown } from "./program.js";

async function main(argv: string[]): Promise<number> {
  const program = await createProgram(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (error.exitCode === 0) return exitCodes.ok;
      // A commander error thrown by an action (not by parsing) has not been printed yet.
      if (!wasUsageErrorShown()) process.stderr.write(formatUsageError(error.message, program.args[0]));
      return exitCodes.usage;
    }
    return reportFailure(error);
  }
}

process.exitCode = await main(process.argv);
