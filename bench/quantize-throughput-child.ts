/**
 * One arm of bench:quantize-throughput: loads `quantize` from the source tree given as argv[2]
 * (this checkout, or a baseline's extracted src/) and quantizes on request, replying with the
 * wall time. `stages: true` (this checkout only) times the pass's stages one by one instead.
 * Run with `node --import tsx`; talks over the IPC channel.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { quantize as Quantize } from "../src/api/quantize.js";
import type * as OnnxPassIo from "../src/passes/onnx/onnx-pass-io.js";
import type * as Int8Dynamic from "../src/passes/onnx/quantize-int8-dynamic.js";
import type * as WriteOnnx from "../src/formats/onnx/write-onnx.js";
import type * as CheckOutputRuns from "../src/passes/onnx/check-output-runs.js";
import type * as RuntimeCatalog from "../src/runtimes/catalog.js";

interface Request {
  modelPath: string;
  outputPath: string;
  stages?: boolean;
}

const root = process.argv[2]!;
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(root, path)).href)) as T;
const { quantize } = await load<{ quantize: typeof Quantize }>("src/api/quantize.ts");

function sinceMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** read (scan + input hash), rewrite (ranges of every weight), write (quantize, output hash, fsync), run check: as the pass does them. */
async function timeStages({ modelPath, outputPath }: Request): Promise<Record<string, number>> {
  const io = await load<typeof OnnxPassIo>("src/passes/onnx/onnx-pass-io.ts");
  const int8 = await load<typeof Int8Dynamic>("src/passes/onnx/quantize-int8-dynamic.ts");
  const { writeOnnxModel } = await load<typeof WriteOnnx>("src/formats/onnx/write-onnx.ts");
  const { checkOutputRuns } = await load<typeof CheckOutputRuns>("src/passes/onnx/check-output-runs.ts");
  const { openRuntimeSession } = await load<typeof RuntimeCatalog>("src/runtimes/catalog.ts");
  const workDir = await mkdtemp(join(tmpdir(), "edgeforge-bench-stages-"));
  try {
    const context = { workDir, openSession: (path: string) => openRuntimeSession("ort", path, "onnx", {}) };
    let start = process.hrtime.bigint();
    const inputFile = await io.readPassInput(await io.describeOnnxArtifact(modelPath), outputPath, context, { liftFloat16: true, streamWeights: true });
    const readMs = sinceMs(start);
    start = process.hrtime.bigint();
    int8.rewriteInt8Dynamic(inputFile, int8.quantizeInt8DynamicOptionsSchema.parse({}), {});
    const rewriteMs = sinceMs(start);
    start = process.hrtime.bigint();
    await writeOnnxModel(inputFile.model, outputPath);
    const writeMs = sinceMs(start);
    start = process.hrtime.bigint();
    await checkOutputRuns(outputPath, modelPath, context);
    return { readMs, rewriteMs, writeMs, runCheckMs: sinceMs(start) };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

process.on("message", (request: Request) => {
  void (async () => {
    if (request.stages) {
      process.send!({ stagesMs: await timeStages(request) });
      return;
    }
    const start = process.hrtime.bigint();
    await quantize(request.modelPath, { method: "int8-dynamic", output: request.outputPath });
    process.send!({ durationMs: sinceMs(start) });
  })().catch((error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }));
});
process.send!({ ready: true });
