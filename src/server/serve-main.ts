import type { ServeConfigInput } from "../api/serve.js";
import type { Logger } from "../core/logger.js";
import { EdgeforgeError } from "../core/errors.js";
import { startInferenceServer } from "./start-server.js";

/**
 * The server process behind `edgeforge serve` (the CLI starts it with the validated configuration as
 * JSON in argv[2], so cli/ and server/ never import each other). SIGTERM or SIGINT drains and exits 0.
 */
const write = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const logger: Logger = { info: write, warn: (message) => write(`warning: ${message}`), debug: () => {} };

async function main(): Promise<number> {
  const server = await startInferenceServer(JSON.parse(process.argv[2] ?? "{}") as ServeConfigInput, { logger });
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      write(`${signal}: draining in-flight requests`);
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          write(`error[INTERNAL]: shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    // Started by the CLI with an IPC channel: the CLI going away (even SIGKILL) closes it.
    process.once("disconnect", () => stop("parent exited"));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (EdgeforgeError.isInstance(error)) {
      write(`error[${error.code}]: ${error.message}`);
      if (error.hint) write(`  hint: ${error.hint}`);
    } else {
      write(`error[INTERNAL]: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  },
);
