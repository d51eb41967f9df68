import type * as OrtNamespace from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import { EdgeforgeError } from "../../core/errors.js";

type OrtModule = typeof OrtNamespace;

/** What happened to one requested execution provider. */
export interface ProviderAttempt {
  provider: string;
  outcome: "used" | "failed" | "unsupported";
  reason?: string;
}

export interface ProviderSelection {
  session: InferenceSession;
  provider: string;
  attempts: ProviderAttempt[];
}

/**
 * Try each requested provider in order and keep the first session that loads. Providers the
 * binary does not list are recorded as unsupported without an attempt; failures keep ORT's own
 * message, so the record says why a run landed on a later provider.
 */
export async function createSessionWithFallback(
  ort: OrtModule,
  modelPath: string,
  providers: readonly string[],
  options: InferenceSession.SessionOptions,
): Promise<ProviderSelection> {
  const listed = new Map(ort.listSupportedBackends().map((backend) => [backend.name, backend.bundled]));
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    const name = provider.toLowerCase();
    if (!listed.has(name)) {
      attempts.push({ provider: name, outcome: "unsupported", reason: `not in this onnxruntime-node build (it lists ${[...listed.keys()].join(", ")})` });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...options, executionProviders: [name] });
      attempts.push({ provider: name, outcome: "used" });
      return { session, provider: name, attempts };
    } catch (error) {
      const bundled = listed.get(name) === true ? "" : " (its libraries are not bundled with onnxruntime-node)";
      attempts.push({ provider: name, outcome: "failed", reason: `${firstLine(error)}${bundled}` });
    }
  }
  const last = attempts[attempts.length - 1];
  const onlyCpuFailed = attempts.length === 1 && last?.provider === "cpu";
  const customOp = attempts.map((attempt) => customOpOf(attempt.reason ?? "")).find((op) => op !== undefined);
  if (customOp) {
    throw new EdgeforgeError("UNSUPPORTED_OP", `${modelPath} uses the custom operator ${customOp.op} from domain ${customOp.domain}, which plain onnxruntime does not have`, {
      hint: `${customOp.domain === "ai.onnx.contrib" ? "ai.onnx.contrib ops come from onnxruntime-extensions, a custom-op library edgeforge does not load" : `ops of domain ${customOp.domain} need the custom-op library they were written for, which edgeforge does not load`}; export the model without ${customOp.op} (do that step in your own pre/post-processing) and optimize the rest`,
      details: { modelPath, domain: customOp.domain, op: customOp.op, attempts },
    });
  }
  throw new EdgeforgeError("RUNTIME_FAILED", onlyCpuFailed ? `onnxruntime cannot load ${modelPath}: ${last.reason}` : `no execution provider could load ${modelPath}`, {
    hint: onlyCpuFailed
      ? "check that the file is a valid ONNX model and that its opset and operators are supported by onnxruntime 1.30"
      : `attempts: ${attempts.map((a) => `${a.provider} ${a.outcome}${a.reason ? ` (${a.reason})` : ""}`).join("; ")}; add "cpu" as a last resort`,
    details: { modelPath, attempts },
  });
}

/** onnxruntime's "ai.onnx.contrib:SuperResolutionPreProcess(-1) is not a registered function/op". */
function customOpOf(reason: string): { domain: string; op: string } | undefined {
  const match = /([A-Za-z][\w.]*):(\w+)\(-?\d+\) is not a registered function\/op/.exec(reason);
  return match ? { domain: match[1] as string, op: match[2] as string } : undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]?.slice(0, 400) ?? message;
}
