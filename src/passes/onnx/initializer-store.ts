import type { GraphProto } from "onnx-buf";
import type { Dtype } from "../../core/dtypes.js";
import type { TensorData } from "../../core/tensor.js";
import type { StreamedBytes } from "../../formats/onnx/streamed-raw-data.js";
import { createTensorProto } from "../../formats/onnx/tensor-data.js";
import type { NameAllocator } from "./graph-edit.js";

export interface NewTensor {
  /** Appended to the base name: "_quantized", "_scale"… */
  suffix: string;
  dtype: Dtype;
  dims: number[];
  /** Values in memory, or bytes computed while the model is written (a streamed weight's quantized values). */
  data: TensorData | StreamedBytes;
}

/**
 * Adds new initializers (quantized weights, scales, zero points) with unique names. A weight shared
 * by several nodes is quantized once: `addOnce` keys on the original constant, its graph and the
 * variant, and hands the same names back. Byte totals feed the size summary.
 */
export class InitializerStore {
  private readonly cache = new Map<string, string[]>();
  private readonly graphIds = new Map<GraphProto, number>();
  /** Bytes of float weights replaced and of the tensors that replaced them (each counted once). */
  floatBytes = 0;
  quantizedBytes = 0;

  constructor(private readonly names: NameAllocator) {}

  private graphKey(graph: GraphProto): number {
    let id = this.graphIds.get(graph);
    if (id === undefined) {
      id = this.graphIds.size + 1;
      this.graphIds.set(graph, id);
    }
    return id;
  }

  /** Add one initializer to `graph` now (no sharing). */
  add(graph: GraphProto, base: string, tensor: NewTensor): string {
    const name = this.names.allocate(`${base}${tensor.suffix}`);
    graph.initializer.push(createTensorProto(name, tensor.dtype, tensor.dims, tensor.data));
    return name;
  }

  /** Names already made by addOnce for this constant and variant, if any. */
  lookup(graph: GraphProto, weightName: string, variant: string): string[] | undefined {
    return this.cache.get(`${this.graphKey(graph)}|${weightName}|${variant}`);
  }

  /**
   * The names of the tensors that replace constant `weightName` of `graph` in `variant`; made (by
   * `make`, which also reports the float bytes replaced) only the first time.
   */
  addOnce(graph: GraphProto, weightName: string, variant: string, make: () => { tensors: NewTensor[]; floatBytes: number }): string[] {
    const key = `${this.graphKey(graph)}|${weightName}|${variant}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const { tensors, floatBytes } = make();
    const names = tensors.map((tensor) => this.add(graph, weightName, tensor));
    this.floatBytes += floatBytes;
    for (const tensor of tensors) this.quantizedBytes += tensor.data.byteLength;
    this.cache.set(key, names);
    return names;
  }
}
