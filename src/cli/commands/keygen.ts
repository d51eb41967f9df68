import { Option, type Command } from "commander";
import { keygen, signingCurves, type SigningCurve } from "../../api/index.js";
import { printHuman, printJson } from "../output.js";

interface KeygenFlags {
  output: string;
  curve: SigningCurve;
  force?: boolean;
  json?: boolean;
}

export function registerKeygenCommand(program: Command): void {
  program
    .command("keygen")
    .description("Make an ECDSA key pair for model signatures (private key mode 0600, public key beside it as .pub.pem)")
    .option("-o, --output <key.pem>", "private key path", "edgeforge-signing-key.pem")
    .addOption(new Option("--curve <name>", "elliptic curve").choices([...signingCurves]).default("P-256"))
    .option("--force", "replace an existing key")
    .option("--json", "print the written paths as JSON on stdout")
    .action(async (flags: KeygenFlags) => {
      const written = await keygen({ output: flags.output, curve: flags.curve, ...(flags.force ? { overwrite: true } : {}) });
      if (flags.json) printJson(written);
      printHuman(`wrote ${written.curve} key pair: ${written.privateKeyPath} (private, mode 0600) · ${written.publicKeyPath} (public)`);
    });
}
