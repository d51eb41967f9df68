import type { Command } from "commander";
import { verify } from "../../api/index.js";
import { printHuman, printJson } from "../output.js";

interface VerifyFlags {
  key: string;
  signature?: string;
  json?: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command("verify")
    .description("Verify a model against its OMS v1.0 signature offline: the signature, the key, then every file's sha256")
    .argument("<model>", "model file or folder")
    .requiredOption("--key <pub.pem>", "the signer's public key")
    .option("--signature <file>", "bundle path (default MODEL.sig)")
    .option("--json", "print the verified manifest as JSON on stdout")
    .action(async (model: string, flags: VerifyFlags) => {
      const result = await verify({ model, key: flags.key, ...(flags.signature ? { signature: flags.signature } : {}) });
      if (flags.json) printJson(result);
      printHuman(`verified: ${result.resources.length} file(s) of ${result.modelName} match ${result.signaturePath} (root sha256 ${result.rootDigest}, key ${result.keyHint.slice(0, 16)}…)`);
    });
}
