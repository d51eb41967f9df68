#!/usr/bin/env node
import { CommanderError } from "commander";
import { exitCodes } from "./exit-codes.js";
import { reportFailure } from "./output.js";
import { createProgram } from "./program.js";

async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    return reportFailure(error);
  }
}

process.exitCode = await main(process.argv);
