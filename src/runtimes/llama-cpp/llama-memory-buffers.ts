import type { Llama } from "node-llama-cpp";
import type { RuntimeMemoryReport } from "../../core/session.js";

const mib = 2 ** 20;

/** llama.cpp's own allocation lines, e.g. "llama_kv_cache:        CPU KV buffer size =     1.00 MiB". */
const bufferLines = {
  kvCache: /KV buffer size\s*=\s*([\d.]+)\s*MiB/,
  compute: /compute buffer size\s*=\s*([\d.]+)\s*MiB/,
  output: /output buffer size\s*=\s*([\d.]+)\s*MiB/,
} as const;

/** Sum of every matching line (one per backend buffer type), in bytes; undefined when none matched. */
function sumMiB(lines: readonly string[], pattern: RegExp): number | undefined {
  let total: number | undefined;
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) total = (total ?? 0) + Math.round(Number(match[1]) * mib);
  }
  return total;
}

/**
 * What llama.cpp allocated for one model and context: weights (llama_model_size, exact bytes),
 * KV cache, output and compute buffers (from the lines llama.cpp logs when it allocates them,
 * 0.01 MiB resolution). When those lines cannot be read, the context's buffers are one part as
 * llama.cpp's memory breakdown reports them (KV cache + output + compute together).
 */
export function describeLlamaMemory(log: readonly string[], weightsBytes: number, contextBytes: number): RuntimeMemoryReport {
  const weights = { name: "weights", bytes: weightsBytes, includes: "the model's tensors (llama_model_size; memory-mapped from the GGUF file)" };
  const kvCache = sumMiB(log, bufferLines.kvCache);
  const compute = sumMiB(log, bufferLines.compute);
  if (kvCache === undefined || compute === undefined) {
    const context = { name: "context buffers", bytes: contextBytes, includes: "KV cache + output + compute buffers together (llama.cpp's memory breakdown of the context)" };
    return { totalBytes: weightsBytes + contextBytes, parts: [weights, context], source: "llama.cpp memory breakdown (model and context)" };
  }
  const output = sumMiB(log, bufferLines.output) ?? 0;
  const parts = [
    weights,
    { name: "KV cache", bytes: kvCache, includes: "keys and values for every context position and layer (llama.cpp's KV buffer)" },
    { name: "compute buffers", bytes: compute + output, includes: "the graph's scratch memory for one batch plus the logits output buffer (llama.cpp's compute and output buffers)" },
  ];
  return { totalBytes: parts.reduce((sum, p) => sum + p.bytes, 0), parts, source: "llama.cpp's own allocation report (llama_model_size; KV, compute and output buffer sizes it logs when the context is created)" };
}

/** How long to wait for llama.cpp's log lines to reach JS after the context exists. */
const logSettleMs = 2000;

let capturing: Promise<unknown> = Promise.resolve();

/**
 * Run `action` with llama.cpp's info-level log captured (its buffer-size lines are info level),
 * then restore the quiet error-only level. Captures are serialized so two loads never mix lines.
 */
export function captureLlamaLog<T>(llama: Llama, quietLevel: Llama["logLevel"], infoLevel: Llama["logLevel"], action: () => Promise<T>): Promise<{ result: T; log: string[] }> {
  const run = capturing.then(async () => {
    const log: string[] = [];
    llama.logger = (_level, message) => {
      if (/buffer size/.test(message)) log.push(message);
    };
    llama.logLevel = infoLevel;
    try {
      const result = await action();
      // node-llama-cpp delivers native log lines to JS asynchronously: wait (briefly) for the last buffer line.
      const deadline = Date.now() + logSettleMs;
      while (!log.some((line) => bufferLines.compute.test(line)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      return { result, log };
    } finally {
      llama.logLevel = quietLevel;
      llama.logger = () => {};
    }
  });
  capturing = run.catch(() => undefined);
  return run;
}
