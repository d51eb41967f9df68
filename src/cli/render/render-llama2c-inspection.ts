import { formatBytes, formatCount } from "../../core/units.js";
import type { Llama2cInspection } from "../../formats/llama2c/inspect-llama2c.js";
import { renderMemoryEstimate } from "./render-memory-estimate.js";
import { alignedTable, grouped, labelled } from "./text-layout.js";

/** The human rendering of `inspect` for a llama2.c checkpoint (stderr). */
export function renderLlama2cInspection(x: Llama2cInspection): string {
  const c = x.config;
  const lines = [
    `llama2.c checkpoint  ${x.path}  (${formatBytes(x.fileSizeBytes)})`,
    labelled("layout", x.version === 0 ? "legacy export (7 × int32 header, float32 weights)" : "version 1 (\"ak42\" header, float32 weights)"),
    labelled("architecture", `llama (${x.sharedClassifier ? "classifier shared with the embedding" : "separate classifier"})`),
    labelled("parameters", `${grouped(x.parameterCount)} (${formatCount(x.parameterCount)}) F32 in ${x.tensorCount} stored tensors${x.ropeTableValues > 0 ? `, plus ${grouped(x.ropeTableValues)} RoPE table values` : ""}`),
    labelled("hyper-parameters", ""),
    ...alignedTable(
      [
        ["dim", String(c.dim)],
        ["feed-forward length", String(c.hiddenDim)],
        ["layers", String(c.layerCount)],
        ["attention heads", String(c.headCount)],
        ["KV heads", String(c.kvHeadCount)],
        ["head dim", String(x.headDim)],
        ["vocabulary", String(c.vocabSize)],
        ["trained sequence length", String(c.seqLen)],
      ],
      "    ",
    ),
    ...renderMemoryEstimate(x.memory),
    labelled("tokenizer", "none in the file: `edgeforge convert FILE --to gguf --vocab-from MODEL.gguf` or `--tokenizer tokenizer.bin`"),
  ];
  return lines.join("\n");
}
