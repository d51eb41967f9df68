import type * as OrtNamespace from "onnxruntime-node";
import type { Dtype } from "../../core/dtypes.js";
import { EdgeforgeError } from "../../core/errors.js";
import type { Tensor, TensorData, TensorSpec } from "../../core/tensor.js";

type OrtModule = typeof OrtNamespace;

const ortDtypes = new Set<string>([
  "float32",
  "float16",
  "float64",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "bool",
]);

/** An edgeforge tensor as an ORT tensor over the same memory (no copy). */
export function toOrtTensor(ort: OrtModule, name: string, tensor: Tensor): OrtNamespace.Tensor {
  if (!ortDtypes.has(tensor.dtype)) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `input "${name}" has dtype ${tensor.dtype}, which edgeforge cannot pass to onnxruntime`, {
      hint: "use a numeric input type",
      details: { input: name, dtype: tensor.dtype },
    });
  }
  const ortTensor = new ort.Tensor(tensor.dtype as "float32", tensor.data as Float32Array, tensor.dims);
  if (tensor.dtype === "float16" && ortTensor.data !== tensor.data) keepFloat16Bits(ortTensor, tensor.data as Uint16Array);
  return ortTensor;
}

/**
 * Where the runtime has Float16Array (Node ≥ 23), onnxruntime-common rewraps Uint16Array float16 data as a
 * Float16Array, whose byte length onnxruntime-node 1.30's binding reads as 0 ("not enough space: expected N, got 0";
 * microsoft/onnxruntime PR #32323). The binding accepts the Uint16Array bits, so the tensor keeps them.
 */
function keepFloat16Bits(ortTensor: OrtNamespace.Tensor, bits: Uint16Array): void {
  (ortTensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
  if (ortTensor.data !== bits) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", "this onnxruntime-common keeps float16 tensor data where edgeforge cannot pass it as Uint16Array", {
      hint: "use the onnxruntime-node version pinned in edgeforge's package.json",
    });
  }
}

/** float16 data is always Uint16Array bits inside edgeforge, whichever array type the runtime hands back. */
function asFloat16Bits(data: TensorData): TensorData {
  return data instanceof Uint16Array ? data : new Uint16Array(data.buffer, data.byteOffset, data.length);
}

/** An ORT output as an edgeforge tensor over the same memory. */
export function fromOrtTensor(name: string, value: OrtNamespace.Tensor): Tensor {
  if (!ortDtypes.has(value.type)) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `output "${name}" has type ${value.type}, which edgeforge cannot read`, {
      hint: "only numeric outputs are supported",
      details: { output: name, type: value.type },
    });
  }
  const data = value.data as TensorData;
  return { dtype: value.type as Dtype, dims: [...value.dims], data: value.type === "float16" ? asFloat16Bits(data) : data };
}

/** ORT input/output metadata → TensorSpecs; non-tensor values (sequences, maps) are reported as unsupported. */
export function specsFromMetadata(metadata: readonly OrtNamespace.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return metadata.map((value) => {
    if (!value.isTensor) {
      throw new EdgeforgeError("UNSUPPORTED_FEATURE", `model value "${value.name}" is not a tensor (sequence or map)`, {
        hint: "edgeforge runs models whose inputs and outputs are tensors",
        details: { name: value.name },
      });
    }
    return { name: value.name, dtype: value.type as Dtype, shape: value.shape.map((dim) => dim) };
  });
}
