import { formatBytes, formatCount } from "../../core/units.js";
import type { SafetensorsInspection } from "../../formats/safetensors/inspect-safetensors.js";
import { alignedTable, clip, grouped, labelled } from "./text-layout.js";
import { renderMemoryEstimate } from "./render-memory-estimate.js";

const shownTensors = 12;

/** The human rendering of `inspect` for a safetensors file, Hugging Face folder or MLX folder (stderr). */
export function renderSafetensorsInspection(x: SafetensorsInspection): string {
  const lines: string[] = [];
  const kind = x.format === "mlx" ? "MLX model" : x.layout === "folder" ? "Hugging Face model" : "safetensors file";
  lines.push(`${kind}  ${x.path}  (${formatBytes(x.fileSizeBytes)} in ${x.files.length} file${x.files.length === 1 ? "" : "s"})`);
  if (x.layout === "folder") {
    lines.push(labelled("files", x.indexFile ? `${x.files.length} shards listed by ${x.indexFile}` : `${x.files.length} .safetensors`));
    lines.push(...alignedTable(x.files.map((f) => [f.path, `${f.tensorCount} tensors`, formatBytes(f.sizeBytes)]), "    ", new Set([1, 2])));
  }
  lines.push(labelled("architecture", x.config?.architectures?.length ? `${x.architecture} (${x.config.architectures.join(", ")})` : x.architecture));
  lines.push(labelled("parameters", `${grouped(x.parameterCount)} (${formatCount(x.parameterCount)}) in ${x.tensorCount} tensors`));
  lines.push(
    ...alignedTable(
      [["dtype", "tensors", "elements", "size"], ...x.byDtype.map((t) => [t.dtype, String(t.tensorCount), grouped(t.parameterCount), formatBytes(t.sizeBytes)])],
      "    ",
      new Set([1, 2, 3]),
    ),
  );
  if (x.quantization) lines.push(labelled("MLX quantization", clip(JSON.stringify(x.quantization), 72)));
  if (x.config) {
    const c = x.config;
    const rows: Array<[string, string | number | undefined]> = [
      ["model_type", c.modelType],
      ["hidden_size", c.hiddenSize],
      ["num_hidden_layers", c.numHiddenLayers],
      ["num_attention_heads", c.numAttentionHeads],
      ["num_key_value_heads", c.numKeyValueHeads],
      ["head_dim", c.headDim],
      ["intermediate_size", c.intermediateSize],
      ["max_position_emb.", c.maxPositionEmbeddings],
      ["vocab_size", c.vocabSize],
      ["torch_dtype", c.torchDtype],
    ];
    lines.push(labelled("config.json", ""));
    lines.push(...alignedTable(rows.filter(([, value]) => value !== undefined).map(([label, value]) => [label, String(value)]), "    "));
  }
  lines.push(...renderMemoryEstimate(x.memory));
  const metadataKeys = Object.keys(x.metadata);
  if (metadataKeys.length > 0) {
    lines.push(labelled("__metadata__", ""));
    lines.push(...alignedTable(metadataKeys.map((key) => [key, clip(x.metadata[key] ?? "", 72)]), "    "));
  }
  lines.push(labelled("tensors", x.tensors.length > shownTensors ? `first ${shownTensors} of ${x.tensors.length} (--json lists all)` : `${x.tensors.length}`));
  lines.push(...alignedTable(x.tensors.slice(0, shownTensors).map((t) => [t.name, t.dtype, `[${t.shape.join(", ")}]`, formatBytes(t.sizeBytes)]), "    ", new Set([3])));
  return lines.join("\n");
}
