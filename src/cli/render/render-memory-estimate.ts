import { formatBytes } from "../../core/units.js";
import type { LlmMemoryEstimate } from "../../formats/llm-memory-estimate.js";
import { alignedTable, labelled } from "./text-layout.js";

/** The memory block shared by the GGUF and safetensors renderings; always labelled as an estimate. */
export function renderMemoryEstimate(memory: LlmMemoryEstimate): string[] {
  const context = memory.contextLength !== undefined ? ` at ${memory.contextLength.toLocaleString("en-US")} tokens of context` : "";
  const rows: string[][] = [["weights", formatBytes(memory.weightsBytes)]];
  if (memory.kvCacheBytes !== undefined) rows.push(["KV cache (f16)", formatBytes(memory.kvCacheBytes)]);
  if (memory.computeBufferBytes !== undefined) rows.push(["compute buffer", formatBytes(memory.computeBufferBytes)]);
  rows.push(["total (estimate)", formatBytes(memory.estimatedRunBytes)]);
  return [labelled("memory to run", `estimate${context}`), ...alignedTable(rows, "    ", new Set([1])), `    ${memory.method}`];
}
