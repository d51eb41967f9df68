import { formatBytes, formatCount } from "../../core/units.js";
import type { GgufInspection, GgufMetadataSummary } from "../../formats/gguf/inspect-gguf.js";
import { alignedTable, clip, grouped, labelled } from "./text-layout.js";
import { renderMemoryEstimate } from "./render-memory-estimate.js";

const shownTensors = 12;

function metadataValue(entry: GgufMetadataSummary): string {
  if (entry.type !== "array") return clip(typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value), 72);
  const preview = (entry.firstValues ?? []).map((value) => JSON.stringify(value)).join(", ");
  const more = (entry.length ?? 0) > (entry.firstValues?.length ?? 0) ? ", …" : "";
  return clip(`[${preview}${more}]`, 72);
}

function metadataType(entry: GgufMetadataSummary): string {
  return entry.type === "array" ? `${entry.itemType}[${grouped(entry.length ?? 0)}]` : entry.type;
}

/** The human rendering of `inspect` for a GGUF model (stderr). */
export function renderGgufInspection(x: GgufInspection): string {
  const lines: string[] = [];
  lines.push(`GGUF model  ${x.path}  (${formatBytes(x.fileSizeBytes)})`);
  lines.push(labelled("version", `GGUF v${x.version}, alignment ${x.alignment}, header ${formatBytes(x.headerSizeBytes)}, data at byte ${grouped(x.dataOffset)}`));
  lines.push(labelled("architecture", x.architecture));
  const vocabularyOnly = x.tensorCount === 0;
  if (vocabularyOnly) {
    const tokens = x.hyperParameters.vocabSize;
    lines.push(labelled("contents", `vocabulary only: a tokenizer${tokens === undefined ? "" : ` of ${grouped(tokens)} tokens`} and no weight tensors`));
    lines.push(labelled("", "nothing here can run, be quantized or be benchmarked; the hyper-parameters and file type below describe the model it was cut from"));
  }
  lines.push(labelled("file type", x.fileType ? `${x.fileType.name}${x.fileType.description !== x.fileType.name ? ` (${x.fileType.description})` : ""}, id ${x.fileType.id}` : "(not recorded)"));
  lines.push(labelled("parameters", `${grouped(x.parameterCount)} (${formatCount(x.parameterCount)}) in ${x.tensorCount} tensors, ${x.bitsPerWeight.toFixed(2)} bits/weight`));
  lines.push(
    ...alignedTable(
      [["type", "tensors", "parameters", "size", "bits/weight"], ...x.byDtype.map((t) => [t.dtype, String(t.tensorCount), grouped(t.parameterCount), formatBytes(t.sizeBytes), t.bitsPerWeight.toFixed(2)])],
      "    ",
      new Set([1, 2, 3, 4]),
    ),
  );

  const hp = x.hyperParameters;
  const hpRows: Array<[string, number | number[] | undefined]> = [
    ["context length", hp.contextLength],
    ["embedding length", hp.embeddingLength],
    ["layers", hp.blockCount],
    ["feed-forward length", hp.feedForwardLength],
    ["attention heads", hp.headCount],
    ["KV heads", hp.headCountKv],
    ["head dim", hp.headDim],
    ["value head dim", hp.valueHeadDim],
    ["RoPE freq base", hp.ropeFreqBase],
    ["RMS norm epsilon", hp.layerNormRmsEpsilon],
    ["vocabulary", hp.vocabSize],
  ];
  const present = hpRows.filter(([, value]) => value !== undefined);
  if (present.length > 0) {
    lines.push(labelled("hyper-parameters", ""));
    lines.push(...alignedTable(present.map(([label, value]) => [label, Array.isArray(value) ? `per layer ${value.join(",")}` : String(value)]), "    "));
  }
  if (!vocabularyOnly) lines.push(...renderMemoryEstimate(x.memory));

  const keys = Object.keys(x.metadata);
  lines.push(labelled("metadata", `${keys.length} keys`));
  lines.push(...alignedTable(keys.map((key) => [key, metadataType(x.metadata[key] as GgufMetadataSummary), metadataValue(x.metadata[key] as GgufMetadataSummary)]), "    "));

  lines.push(labelled("tensors", x.tensors.length > shownTensors ? `first ${shownTensors} of ${x.tensors.length} (--json lists all)` : `${x.tensors.length}`));
  lines.push(
    ...alignedTable(
      x.tensors.slice(0, shownTensors).map((t) => [t.name, t.type, `[${t.dims.join(", ")}]`, formatBytes(t.sizeBytes)]),
      "    ",
      new Set([3]),
    ),
  );
  return lines.join("\n");
}
