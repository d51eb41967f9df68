import type { Command } from "commander";
import { sign } from "../../api/index.js";
import { collect } from "../options.js";
import { printHuman, printJson } from "../output.js";

interface SignFlags {
  key: string;
  output?: string;
  ignore: string[];
  json?: boolean;
}

export function registerSignCommand(program: Command): void {
  program
    .command("sign")
    .description("Sign a model file or folder: an OpenSSF Model Signing v1.0 Sigstore bundle (key mode, offline)")
    .argument("<model>", "model file or folder")
    .requiredOption("--key <key.pem>", "private key (from `edgeforge keygen`)")
    .option("-o, --output <file>", "bundle path (default MODEL.sig)")
    .option("--ignore <path>", "path inside the model folder to leave out (repeatable; default .git, .gitattributes, .github, .gitignore)", collect, [])
    .option("--json", "print the result as JSON on stdout")
    .action(async (model: string, flags: SignFlags) => {
      const result = await sign({ model, key: flags.key, ...(flags.output ? { output: flags.output } : {}), ...(flags.ignore.length > 0 ? { ignorePaths: flags.ignore } : {}) });
      if (flags.json) printJson(result);
      printHuman(`signed ${result.files} file(s) of ${result.modelName} (root sha256 ${result.rootDigest}) → ${result.signaturePath}`);
    });
}
