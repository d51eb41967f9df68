import type { Session } from "../../core/session.js";
import type { NamedTensors, TensorSpec } from "../../core/tensor.js";
import type { ShapeOverrides } from "../../core/shapes.js";
import { EdgeforgeError } from "../../core/errors.js";
import { bindInputs } from "../../datasets/bind-inputs.js";
import { generateInputs } from "../../datasets/synthetic-inputs.js";
import type { PassContext } from "../pass.js";

/**
 * Symbolic dimensions get 1 when leading (batch) and `size` elsewhere. 32 suits every stride-32 vision
 * model; 512 is the second try, for audio models whose frames must outlast their filters (Silero VAD).
 */
const probeSizes = [32, 512];

function probeShapes(specs: readonly TensorSpec[], size: number): ShapeOverrides {
  const shapes: ShapeOverrides = {};
  for (const spec of specs) {
    spec.shape.forEach((dim, axis) => {
      if (typeof dim === "string" && shapes[dim] === undefined) shapes[dim] = [axis === 0 ? 1 : size];
    });
    if (spec.shape.some((dim) => dim === undefined || dim === null)) shapes[spec.name] = spec.shape.map((dim, axis) => (typeof dim === "number" ? dim : axis === 0 ? 1 : size));
  }
  return shapes;
}

/** The inputs to probe with: the first calibration sample when there is one, else synthetic values of each probe size. */
async function probeInputs(specs: readonly TensorSpec[], context: PassContext): Promise<NamedTensors[]> {
  const data = context.calibrationData;
  if (data) {
    for await (const sample of data.samples(context.signal)) return [bindInputs(sample.inputs, specs, { seed: 1 })];
  }
  return probeSizes.map((size) => generateInputs(specs, { seed: 1, shapes: probeShapes(specs, size), unknownShapes: "ignore" }));
}

async function tryRun(session: Session, inputs: NamedTensors, signal: AbortSignal | undefined): Promise<Error | undefined> {
  try {
    await session.run(inputs, signal ? { signal } : {});
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/**
 * Load the written output in the context's runtime and run it once, so that a pass never reports
 * success for a model the runtime refuses. When the probe input cannot run through the input model
 * either (it needs data the pass does not have), loading is the check. Returns a note for the log.
 * `outputPath` is the file loaded (the writer's temp file, before its rename); errors name `reportPath`.
 */
export async function checkOutputRuns(outputPath: string, inputPath: string, context: PassContext, reportPath = outputPath): Promise<string> {
  const openSession = context.openCheckSession ?? context.openSession;
  if (!openSession) return "output not loaded in a runtime: the pass was given none";
  let session: Session | undefined;
  try {
    session = await openSession(outputPath, context.signal);
  } catch (error) {
    // A model the runtime cannot load at all (custom ops, say) is the input's problem, not the pass's.
    await (await openSession(inputPath, context.signal)).close();
    throw invalidOutput(reportPath, "load", error as Error);
  }
  try {
    for (const inputs of await probeInputs(session.describe().inputs, context)) {
      const failure = await tryRun(session, inputs, context.signal);
      if (!failure) return `output loaded and run once in ${session.describe().runtime} ${session.describe().runtimeVersion}`;
      const reference = await openSession(inputPath, context.signal);
      try {
        // A probe the input model refuses too says nothing about the output: try the next size.
        if (await tryRun(reference, inputs, context.signal)) continue;
      } finally {
        await reference.close();
      }
      throw invalidOutput(reportPath, "run", failure);
    }
    return `output loaded in ${session.describe().runtime}; not run: the probe inputs do not fit the input model either (give calibration data to run it)`;
  } finally {
    await session.close();
  }
}

function invalidOutput(path: string, step: "load" | "run", cause: Error): EdgeforgeError {
  return new EdgeforgeError("INTERNAL", `the output ${path} does not ${step} in the runtime: ${cause.message}`, {
    hint: "this is a bug in edgeforge; the output was not kept. Report it with the model, or try another method",
    details: { path, step },
    cause,
  });
}
