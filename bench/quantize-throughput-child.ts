/**
 * One arm of bench:quantize-throughput: loads `quantize` from the source tree given as argv[2]
 * (this checkout, or a baseline's extracted src/) and quantizes on request, replying with the
 * wall time: through `quantize()` (which loads and runs the output once in onnxruntime), or with
 * `runCheck: false` the int8-dynamic pass itself given no runtime (everything but that check).
 * `stages: true` (this checkout only) times the pass's stages one by one instead.
 * Run with `node --import tsx`; talks over the IPC channel.
 */
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { quantize as Quantize } from "../src/api/quantize.js";
import type * as OnnxPassIo from "../src/passes/onnx/onnx-pass-io.js";
import type * as Int8Dynamic from "../src/passes/onnx/quantize-int8-dynamic.js";
import type * as WriteOnnx from "../src/formats/onnx/write-onnx.js";
import type * as CheckOutputRuns from "../src/passes/onnx/check-output-runs.js";
import type * as RuntimeCatalog from "../src/runtimes/catalog.js";
import type * as RuntimeSettings from "../src/runtimes/runtime-settings.js";

interface Request {
  modelPath: string;
  outputPath: string;
  runCheck?: boolean;
  stages?: boolean;
}

const root = process.argv[2]!;
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(root, path)).href)) as T;
const { quantize } = await load<{ quantize: typeof Quantize }>("src/api/quantize.ts");
const { quantizeInt8DynamicPass, quantizeInt8DynamicOptionsSchema } = await load<typeof Int8Dynamic>("src/passes/onnx/quantize-int8-dynamic.ts");
const { describeOnnxArtifact } = await load<typeof OnnxPassIo>("src/passes/onnx/onnx-pass-io.ts");

function sinceMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * read (field scan; the input's hash starts on the worker thread), rewrite (ranges of every weight),
 * write (quantize, output hash, fsync, rename), input hash (what is left to wait for), run check.
 */
async function timeStages({ modelPath, outputPath }: Request): Promise<Record<string, number>> {
  const io = await load<typeof OnnxPassIo>("src/passes/onnx/onnx-pass-io.ts");
  const int8 = await load<typeof Int8Dynamic>("src/passes/onnx/quantize-int8-dynamic.ts");
  const { writeOnnxModel } = await load<typeof WriteOnnx>("src/formats/onnx/write-onnx.ts");
  const { checkOutputRuns } = await load<typeof CheckOutputRuns>("src/passes/onnx/check-output-runs.ts");
  const { openRuntimeSession } = await load<typeof RuntimeCatalog>("src/runtimes/catalog.ts");
  const { runCheckSettings } = await load<typeof RuntimeSettings>("src/runtimes/runtime-settings.ts");
  // The bench's temp folder (removed by the bench) as the pass's scratch folder: int8-dynamic writes none.
  // The check's session as quantize() opens it; timed here after the write (the pass overlaps the two).
  const context = {
    workDir: dirname(outputPath),
    openSession: (path: string) => openRuntimeSession("ort", path, "onnx", {}),
    openCheckSession: (path: string) => openRuntimeSession("ort", path, "onnx", runCheckSettings),
  };
  let start = process.hrtime.bigint();
  const inputFile = await io.readPassInput(await io.describeOnnxArtifact(modelPath), outputPath, context, { liftFloat16: true, streamWeights: true });
  const readMs = sinceMs(start);
  start = process.hrtime.bigint();
  int8.rewriteInt8Dynamic(inputFile, int8.quantizeInt8DynamicOptionsSchema.parse({}), {});
  const rewriteMs = sinceMs(start);
  start = process.hrtime.bigint();
  await writeOnnxModel(inputFile.model, outputPath, { hashOnWorker: inputFile.pendingSha256 !== undefined });
  const writeMs = sinceMs(start);
  start = process.hrtime.bigint();
  await inputFile.pendingSha256;
  const inputHashWaitMs = sinceMs(start);
  start = process.hrtime.bigint();
  await checkOutputRuns(outputPath, modelPath, context);
  return { readMs, rewriteMs, writeMs, inputHashWaitMs, runCheckMs: sinceMs(start) };
}

async function quantizeOnce({ modelPath, outputPath, runCheck = true }: Request): Promise<void> {
  if (runCheck) await quantize(modelPath, { method: "int8-dynamic", output: outputPath });
  else await quantizeInt8DynamicPass.run(await describeOnnxArtifact(modelPath), outputPath, quantizeInt8DynamicOptionsSchema.parse({}), { workDir: dirname(outputPath) });
}

process.on("message", (request: Request) => {
  void (async () => {
    if (request.stages) {
      process.send!({ stagesMs: await timeStages(request) });
      return;
    }
    const start = process.hrtime.bigint();
    await quantizeOnce(request);
    process.send!({ durationMs: sinceMs(start) });
  })().catch((error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }));
});
process.send!({ ready: true });
