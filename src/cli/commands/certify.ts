import type { Command } from "commander";
import { certify } from "../../api/index.js";
import { parseShapeOverrides } from "../../core/shapes.js";
import { exitCodes } from "../exit-codes.js";
import { collect, parsePositiveInt } from "../options.js";
import { printHuman, printJson, stderrLogger } from "../output.js";

interface CertifyFlags {
  report: string;
  output: string;
  key?: string;
  requirements?: string;
  shape: string[];
  remeasure?: boolean;
  register?: string;
  registry?: string;
  seed?: number;
  json?: boolean;
}

export function registerCertifyCommand(program: Command): void {
  program
    .command("certify")
    .description("Production-readiness validation: accuracy, performance, robustness, stress, security, compliance → certification.json, approval, monitoring baselines; OMS signature with --key")
    .argument("<artifact>", "the optimized model file or folder")
    .requiredOption("--report <report.json>", "the optimize report the artifact came from")
    .requiredOption("-o, --output <dir>", "folder for certification.json, the signature and the attestations")
    .option("--key <key.pem>", "private key: sign the artifact (OpenSSF Model Signing) and the attestations")
    .option("--requirements <file>", "requirements (YAML/JSON): latency budgets, stress, robustness, security, compliance, monitoring")
    .option("--shape <name=DxD...>", "fix an input shape (repeatable)", collect, [])
    .option("--remeasure", "re-measure accuracy and performance even when the report comes from this machine")
    .option("--register <model>", "register the artifact with its certification as a new version of this model")
    .option("--registry <file>", "registry database (lineage check, --register; default $EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db)")
    .option("--seed <n>", "seed for generated inputs", parsePositiveInt)
    .option("--json", "print certification.json on stdout")
    .action(async (artifact: string, flags: CertifyFlags) => {
      const result = await certify({
        artifact,
        report: flags.report,
        output: flags.output,
        ...(flags.key ? { key: flags.key } : {}),
        ...(flags.requirements ? { requirements: flags.requirements } : {}),
        ...(flags.shape.length > 0 ? { shapes: parseShapeOverrides(flags.shape) } : {}),
        ...(flags.remeasure ? { remeasure: true } : {}),
        ...(flags.register ? { register: flags.register } : {}),
        ...(flags.registry ? { registry: flags.registry } : {}),
        ...(flags.seed ? { seed: flags.seed } : {}),
        logger: stderrLogger,
      });
      if (flags.json) printJson(result);
      for (const check of result.approval.checks) printHuman(`${check.passed ? "pass" : check.required ? "FAIL" : "warn"}  ${check.section}: ${check.name} — ${check.detail}`);
      for (const skipped of result.notApplicable) printHuman(`n/a   ${skipped.section}: ${skipped.name} — ${skipped.reason}`);
      printHuman(result.approval.approved ? `approved for deployment (${result.artifact.name}, sha256 ${result.artifact.sha256})` : `NOT approved: ${result.approval.failed.length} required check(s) failed`);
      if (result.signature) printHuman(`signed: ${result.signature.path} (key ${result.signature.keyHint.slice(0, 16)}…) + provenance, test-result and verification-summary attestations`);
      if (result.registry) printHuman(`registered ${result.registry.model}@${result.registry.version} in ${result.registry.path}`);
      if (!result.approval.approved) process.exitCode = exitCodes.gatesFailed;
    });
}
