import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { EdgeforgeError } from "../core/errors.js";
import type { Session } from "../core/session.js";
import type { NamedTensors } from "../core/tensor.js";
import type { Dataset, DatasetSample } from "../datasets/dataset.js";
import type { EvalMetric, Evaluator } from "./evaluator.js";
import { boundSamples } from "./sample-runs.js";

/** What a user evaluator module's function receives. */
export interface CustomEvaluatorContext {
  modelPath: string;
  session: Session;
  dataset?: Dataset;
  /** Each dataset sample with its bound inputs and the model's outputs. */
  runSamples(): AsyncIterable<{ sample: DatasetSample; inputs: NamedTensors; outputs: NamedTensors }>;
  options: Record<string, unknown>;
  signal?: AbortSignal;
}

const metricSchema = z
  .object({
    name: z.string().min(1),
    value: z.number(),
    unit: z.string().default(""),
    direction: z.enum(["higher", "lower"]).default("higher"),
    description: z.string().optional(),
  })
  .strict();

/** `{ metrics: [{name, value, unit?, direction?}], sampleCount? }`, or a plain `{ name: number }` map (higher is better). */
const resultSchema = z.union([
  z.object({ metrics: z.array(metricSchema).min(1), sampleCount: z.number().int().nonnegative().optional(), details: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.record(z.string(), z.number()).refine((value) => Object.keys(value).length > 0, { message: "no metrics returned" }),
]);

type CustomFunction = (context: CustomEvaluatorContext) => unknown;

async function loadEvaluatorFunction(path: string): Promise<CustomFunction> {
  let module: { default?: unknown; evaluate?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as typeof module;
  } catch (error) {
    const typescript = /\.(c|m)?tsx?$/.test(path);
    throw new EdgeforgeError("INVALID_OPTION", `cannot load evaluator module ${path}: ${(error as Error).message.split("\n")[0]}`, {
      hint: typescript ? "Node loads JavaScript: compile the evaluator to .js/.mjs (or run edgeforge under tsx)" : "pass an ES module (.mjs, or .js in a \"type\": \"module\" package) that exports a function",
      details: { path },
      cause: error,
    });
  }
  const fn = typeof module.default === "function" ? module.default : module.evaluate;
  if (typeof fn !== "function") {
    throw new EdgeforgeError("INVALID_OPTION", `evaluator module ${path} exports no function`, {
      hint: "export default async function (context) { ... return { metrics: [{ name, value }] } }",
      details: { path, exports: Object.keys(module) },
    });
  }
  return fn as CustomFunction;
}

/** Builds an evaluator around a user's module: a JS file exporting `default` or `evaluate`. */
export function createCustomEvaluator(path: string): Evaluator {
  return {
    id: "custom",
    description: `user evaluator ${path}`,
    primaryMetric: "",
    baseline: "rerun",
    needsDataset: false,
    async evaluate(context) {
      const fn = await loadEvaluatorFunction(path);
      const session = await context.openSession(context.modelPath, context.signal);
      let ran = 0;
      let raw: unknown;
      try {
        raw = await fn({
          modelPath: context.modelPath,
          session,
          ...(context.dataset ? { dataset: context.dataset } : {}),
          async *runSamples() {
            for await (const { sample, inputs } of boundSamples(session, context)) {
              ran += 1;
              yield { sample, inputs, outputs: await session.run(inputs, { signal: context.signal }) };
            }
          },
          options: context.options,
          ...(context.signal ? { signal: context.signal } : {}),
        });
      } catch (error) {
        if (EdgeforgeError.isInstance(error)) throw error;
        throw new EdgeforgeError("MEASUREMENT_FAILED", `evaluator ${path} threw: ${(error as Error).message}`, {
          hint: "fix the evaluator module; its stack is in the error's cause",
          details: { path },
          cause: error,
        });
      } finally {
        await session.close();
      }
      const parsed = resultSchema.safeParse(raw);
      if (!parsed.success) {
        throw new EdgeforgeError("INVALID_OPTION", `evaluator ${path} returned an invalid result: ${z.prettifyError(parsed.error)}`, {
          hint: "return { metrics: [{ name: \"accuracy\", value: 0.9, unit: \"ratio\", direction: \"higher\" }] } or { accuracy: 0.9 }",
          details: { path },
        });
      }
      const result = parsed.data;
      const metrics: EvalMetric[] =
        "metrics" in result && Array.isArray(result.metrics)
          ? result.metrics.map((m) => ({ ...m }))
          : Object.entries(result as Record<string, number>).map(([name, value]) => ({ name, value, unit: "", direction: "higher" as const }));
      const sampleCount = "metrics" in result && typeof result.sampleCount === "number" ? result.sampleCount : ran;
      return {
        metrics,
        sampleCount,
        primaryMetric: metrics[0]?.name ?? "",
        ...("metrics" in result && result.details ? { details: result.details as Record<string, unknown> } : {}),
      };
    },
  };
}
