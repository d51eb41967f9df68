import { EdgeforgeError } from "../core/errors.js";
import { maxShapeElements } from "../core/shapes.js";
import { describeOptionIssue } from "../passes/check-pass-options.js";
import type { Pass } from "../passes/pass.js";
import { findLlamaQuantizeType, llamaQuantizeTypeNames } from "../toolchain/llama-quantize/llama-quantize-types.js";
import type { WorkflowConfig } from "./workflow-config.js";

function unknownPass(id: string, where: string, passes: readonly Pass[]): EdgeforgeError {
  return new EdgeforgeError("INVALID_OPTION", `${where}: no pass is called "${id}"`, {
    hint: `pass ids: ${passes.map((pass) => pass.id).join(", ")}`,
    details: { passId: id },
  });
}

/**
 * Everything in a resolved config that can be checked without touching the model, checked before
 * any work: pass ids, llama.cpp types, each fixed pass option against its pass's schema (with the
 * option's own message), and shapes within the size limit. A mistake fails in milliseconds with a
 * hint rather than as "0 candidates" or once per candidate at run time.
 */
export function checkWorkflowSettings(config: WorkflowConfig, passes: readonly Pass[]): void {
  const byId = new Map(passes.map((pass) => [pass.id, pass]));
  for (const id of config.candidates.passes ?? []) if (!byId.has(id)) throw unknownPass(id, "--pass", passes);
  for (const id of config.candidates.exclude) if (!byId.has(id)) throw unknownPass(id, "--exclude", passes);
  for (const name of config.candidates.ggufTypes ?? []) {
    if (!findLlamaQuantizeType(name)) {
      throw new EdgeforgeError("INVALID_OPTION", `--gguf-types: "${name}" is not a llama.cpp quantization type`, {
        hint: `types: ${llamaQuantizeTypeNames.join(", ")}`,
        details: { type: name },
      });
    }
  }
  for (const [id, options] of Object.entries(config.candidates.passOptions)) {
    const pass = byId.get(id);
    if (!pass) throw unknownPass(id, "--pass-option", passes);
    const parsed = pass.optionsSchema.safeParse(options);
    // Only the options given are judged here: the search fills in the rest.
    const issues = parsed.success ? [] : parsed.error.issues.filter((issue) => String(issue.path[0]) in options);
    if (issues.length > 0) {
      throw new EdgeforgeError("INVALID_OPTION", `--pass-option ${id}: ${issues.map((issue) => describeOptionIssue(issue, options)).join("; ")}`, {
        hint: `see the options of ${id} in docs/optimize-onnx.md (or docs/optimize-llm.md)`,
        details: { passId: id, issues },
      });
    }
    const known = parsed.success && typeof parsed.data === "object" && parsed.data !== null ? Object.keys(parsed.data) : undefined;
    const unknown = known ? Object.keys(options).filter((key) => !known.includes(key)) : [];
    if (unknown.length > 0) {
      throw new EdgeforgeError("INVALID_OPTION", `--pass-option ${id}: no option ${unknown.join(", ")}`, {
        hint: `${id} options: ${known?.join(", ")}`,
        details: { passId: id, unknown },
      });
    }
  }
  for (const [name, shape] of Object.entries(config.measurement.shapes)) {
    const elements = shape.reduce((product, dim) => product * dim, 1);
    if (elements > maxShapeElements) {
      throw new EdgeforgeError("INVALID_SHAPE", `shape of ${name} [${shape.join(", ")}] describes ${elements.toExponential(2)} elements, more than the limit of ${maxShapeElements} (2^31)`, {
        hint: "check the numbers: a real input is e.g. --shape x=1x3x48x320",
        details: { name, shape },
      });
    }
  }
}
