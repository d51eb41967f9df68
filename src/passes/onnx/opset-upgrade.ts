import type { GraphProto, ModelProto, NodeProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import { walkGraphs } from "../../formats/onnx/graph-walk.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import { defaultOpsetVersion, type NameAllocator } from "./graph-edit.js";

function takeInts(node: NodeProto, name: string): number[] | undefined {
  const index = node.attribute.findIndex((a) => a.name === name);
  if (index < 0) return undefined;
  const values = node.attribute[index]!.ints.length > 0 ? node.attribute[index]!.ints.map(Number) : [Number(node.attribute[index]!.i)];
  node.attribute.splice(index, 1);
  return values;
}

function addInt64(graph: GraphProto, names: NameAllocator, base: string, values: number[]): string {
  const name = names.allocate(base);
  graph.initializer.push(createTensorProto(name, "int64", [values.length], BigInt64Array.from(values.map(BigInt))));
  return name;
}

/**
 * Move a model from ai.onnx opset 9 to 10, which QuantizeLinear/DequantizeLinear and the QLinear
 * kernels onnxruntime fuses QDQ into require. Only two ops changed incompatibly at 10: Slice and
 * TopK take what were attributes as inputs. Models using Upsample (deprecated at 10) are refused.
 */
export function upgradeOpsetTo10(model: ModelProto, names: NameAllocator, path: string): boolean {
  if (defaultOpsetVersion(model) >= 10) return false;
  for (const { graph } of walkGraphs(model.graph!)) {
    for (const node of graph.node) {
      if (node.domain !== "" && node.domain !== "ai.onnx") continue;
      if (node.opType === "Upsample") {
        throw new EdgeforgeError("UNSUPPORTED_OP", `${path} uses Upsample at opset ${defaultOpsetVersion(model)}; static int8 needs opset ≥ 10, where Upsample is deprecated`, {
          hint: "re-export the model at opset 11 or later (Resize instead of Upsample), or use int8-dynamic",
          details: { path, node: node.name },
        });
      }
      if (node.opType === "Slice") {
        const starts = takeInts(node, "starts") ?? [];
        const ends = takeInts(node, "ends") ?? [];
        const axes = takeInts(node, "axes");
        const base = node.name || node.output[0] || "slice";
        node.input.push(addInt64(graph, names, `${base}_starts`, starts), addInt64(graph, names, `${base}_ends`, ends));
        if (axes) node.input.push(addInt64(graph, names, `${base}_axes`, axes));
      } else if (node.opType === "TopK") {
        const k = takeInts(node, "k") ?? [1];
        node.input.push(addInt64(graph, names, `${node.name || node.output[0] || "topk"}_k`, k));
      }
    }
  }
  const opset = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx")!;
  opset.version = 10n;
  return true;
}
