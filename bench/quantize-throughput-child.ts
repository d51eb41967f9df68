/**
 * One arm of bench:quantize-throughput: loads `quantize` from the source tree given as argv[2]
 * (this checkout, or a baseline's extracted src/) and quantizes on request, replying with the
 * wall time. Run with `node --import tsx`; talks over the IPC channel.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { quantize as Quantize } from "../src/api/quantize.js";

interface Request {
  modelPath: string;
  outputPath: string;
}

const root = process.argv[2]!;
const { quantize } = (await import(pathToFileURL(join(root, "src/api/quantize.ts")).href)) as { quantize: typeof Quantize };

process.on("message", (request: Request) => {
  void (async () => {
    const start = process.hrtime.bigint();
    await quantize(request.modelPath, { method: "int8-dynamic", output: request.outputPath });
    process.send!({ durationMs: Number(process.hrtime.bigint() - start) / 1e6 });
  })().catch((error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }));
});
process.send!({ ready: true });
