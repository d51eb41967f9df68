import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { defaultOpsetVersion, type NameAllocator } from "./graph-edit.js";

/** Oldest ai.onnx opset the upgrade takes: below 7, Add/Mul/… still carried the legacy `broadcast` attribute. */
export const oldestUpgradableOpset = 7;

function takeAttribute(node: NodeProto, name: string) {
  const index = node.attribute.findIndex((a) => a.name === name);
  return index < 0 ? undefined : node.attribute.splice(index, 1)[0];
}

function takeInts(node: NodeProto, name: string): number[] | undefined {
  const attribute = takeAttribute(node, name);
  if (!attribute) return undefined;
  return attribute.ints.length > 0 ? attribute.ints.map(Number) : [Number(attribute.i)];
}

function addInt64(graph: GraphProto, names: NameAllocator, base: string, values: number[]): string {
  const name = names.allocate(base);
  graph.initializer.push(createTensorProto(name, "int64", [values.length], BigInt64Array.from(values.map(BigInt))));
  return name;
}

function refuse(path: string, opset: number, node: NodeProto, why: string): EdgeforgeError {
  return new EdgeforgeError("UNSUPPORTED_OP", `${path} uses ${node.opType} at opset ${opset}: ${why}`, {
    hint: "re-export the model at opset 11 or later, or use int8-dynamic or fp16 (which keep the opset)",
    details: { path, node: node.name || node.output[0], opType: node.opType, opset },
  });
}

/** Rewrite one node from its opset 7–9 form to its opset 10 form (in place). */
function upgradeNode(node: NodeProto, graph: GraphProto, names: NameAllocator, path: string, opset: number): void {
  const base = node.name || node.output[0] || node.opType;
  switch (node.opType) {
    case "Slice": {
      // Slice-10: starts/ends/axes became inputs.
      const starts = takeInts(node, "starts") ?? [];
      const ends = takeInts(node, "ends") ?? [];
      const axes = takeInts(node, "axes");
      node.input.push(addInt64(graph, names, `${base}_starts`, starts), addInt64(graph, names, `${base}_ends`, ends));
      if (axes) node.input.push(addInt64(graph, names, `${base}_axes`, axes));
      return;
    }
    case "TopK":
      node.input.push(addInt64(graph, names, `${base}_k`, takeInts(node, "k") ?? [1]));
      return;
    case "BatchNormalization": {
      // BatchNormalization-9 dropped `spatial` (always spatial since).
      const spatial = takeAttribute(node, "spatial");
      if (spatial && spatial.i === 0n) throw refuse(path, opset, node, "non-spatial batch normalization has no opset 10 form");
      return;
    }
    case "Upsample": {
      // Resize-10 is Upsample-9 renamed (inputs X, scales; attribute mode); Upsample-7 held scales as an attribute.
      const scales = takeAttribute(node, "scales");
      if (scales) {
        const name = names.allocate(`${base}_scales`);
        graph.initializer.push(createTensorProto(name, "float32", [scales.floats.length], Float32Array.from(scales.floats)));
        node.input.push(name);
      }
      node.opType = "Resize";
      return;
    }
    case "Scan":
      if (opset < 9) throw refuse(path, opset, node, "Scan-8's batch axis has no opset 10 form");
      return;
    default:
  }
}

/**
 * Move a model from ai.onnx opset 7–9 to 10, which QuantizeLinear/DequantizeLinear and the QLinear
 * kernels onnxruntime fuses QDQ into require. Between 7 and 10 only these ops changed
 * incompatibly: Slice and TopK (attributes became inputs), BatchNormalization (`spatial` dropped),
 * Upsample (replaced by Resize) and Scan-8. Returns the opset the model had, or undefined when it
 * was already at 10 or later.
 */
export function upgradeOpsetTo10(model: ModelProto, names: NameAllocator, path: string): number | undefined {
  const opset = defaultOpsetVersion(model);
  if (opset >= 10) return undefined;
  if (opset < oldestUpgradableOpset) {
    throw new EdgeforgeError("UNSUPPORTED_OP", `${path} is at ai.onnx opset ${opset}; static int8 needs opset ≥ 10 and edgeforge upgrades from ${oldestUpgradableOpset} up`, {
      hint: "re-export the model at a newer opset, or use int8-dynamic or fp16",
      details: { path, opset },
    });
  }
  for (const { graph } of walkGraphs(model.graph!)) {
    for (const node of graph.node) {
      if (node.domain === "" || node.domain === "ai.onnx") upgradeNode(node, graph, names, path, opset);
    }
  }
  const entry = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx")!;
  entry.version = 10n;
  // Opset 10 came with IR version 5.
  if (model.irVersion < 5n) model.irVersion = 5n;
  return opset;
}
