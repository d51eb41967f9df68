import { Command } from "commander";
import { version } from "../api/version.js";
import { exitCodes } from "./exit-codes.js";

/** Each command's module, loaded only when needed: a run imports just the command it names (the whole
 * API behind every command takes ~0.5 s to load), help and unknown names load them all, in this order. */
const commandLoaders: Record<string, () => Promise<(program: Command) => void>> = {
  bench: async () => (await import("./commands/bench.js")).registerBenchCommand,
  convert: async () => (await import("./commands/convert.js")).registerConvertCommand,
  eval: async () => (await import("./commands/eval.js")).registerEvalCommand,
  hw: async () => (await import("./commands/hw.js")).registerHwCommand,
  inspect: async () => (await import("./commands/inspect.js")).registerInspectCommand,
  optimize: async () => (await import("./commands/optimize.js")).registerOptimizeCommand,
  run: async () => (await import("./commands/run.js")).registerRunCommand,
  quantize: async () => (await import("./commands/quantize.js")).registerQuantizeCommand,
  diagnose: async () => (await import("./commands/diagnose.js")).registerDiagnoseCommand,
  certify: async () => (await import("./commands/certify.js")).registerCertifyCommand,
  keygen: async () => (await import("./commands/keygen.js")).registerKeygenCommand,
  registry: async () => (await import("./commands/registry.js")).registerRegistryCommand,
  sign: async () => (await import("./commands/sign.js")).registerSignCommand,
  verify: async () => (await import("./commands/verify.js")).registerVerifyCommand,
  serve: async () => (await import("./commands/serve.js")).registerServeCommand,
  conformance: async () => (await import("./commands/conformance.js")).registerConformanceCommand,
  package: async () => (await import("./commands/package.js")).registerPackageCommand,
  rollout: async () => (await import("./commands/rollout.js")).registerRolloutCommand,
  monitor: async () => (await import("./commands/monitor.js")).registerMonitorCommand,
  alerts: async () => (await import("./commands/alerts.js")).registerAlertsCommand,
};

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

/** The program with the command `argv` names registered, or every command when it names none. */
export async function createProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command("edgeforge")
    .description("Optimize, validate and measure models for edge devices.")
    .version(version, "-V, --version")
    .exitOverride()
    .addHelpText(
      "after",
      `\nExit codes: ${exitCodes.ok} ok · ${exitCodes.error} error · ${exitCodes.usage} usage · ${exitCodes.gatesFailed} quality gates failed · ${exitCodes.partialFailure} some measurements failed · ${exitCodes.internal} internal error · ${exitCodes.interrupted} interrupted (SIGINT) · ${exitCodes.terminated} terminated (SIGTERM)`,
    );
  const named = argv[2];
  const wanted =
    named === "-V" || named === "--version"
      ? []
      : named !== undefined && Object.hasOwn(commandLoaders, named)
        ? [named]
        : Object.keys(commandLoaders);
  const registers = await Promise.all(wanted.map((name) => commandLoaders[name]!()));
  for (const register of registers) register(program);
  // Every level (`registry alias set` too): a nested command's usage error is printed once, naming its own --help.
  const configure = (command: Command, path: string | undefined): void => {
    configureUsageOutput(command, path);
    for (const sub of command.commands) configure(sub, path === undefined ? sub.name() : `${path} ${sub.name()}`);
  };
  configure(program, undefined);
  return program;
}
