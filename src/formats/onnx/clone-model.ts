import { clearField, clone } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProtoSchema, type ModelProto } from "onnx-buf";
import { walkTensors } from "./graph-walk.js";
import { setStreamedRawData, streamedRawData } from "./streamed-raw-data.js";

/**
 * A deep copy of `model` whose streamed tensors (raw_data left in their file) stay streamed in both
 * models, sharing the file ranges: a plain protobuf clone reads every raw_data, which would read a
 * streamed model's weights into memory, in the original too.
 */
export function cloneModel(model: ModelProto): ModelProto {
  if (!model.graph) return clone(ModelProtoSchema, model);
  const streamed = [...walkTensors(model.graph)].map(({ tensor }) => ({ tensor, bytes: streamedRawData(tensor) }));
  for (const { tensor, bytes } of streamed) if (bytes) clearField(tensor, TensorProtoSchema.field.rawData);
  let copy: ModelProto;
  try {
    copy = clone(ModelProtoSchema, model);
  } finally {
    for (const { tensor, bytes } of streamed) if (bytes) setStreamedRawData(tensor, bytes);
  }
  // The walk visits the copy's tensors in the same order as the original's.
  [...walkTensors(copy.graph!)].forEach(({ tensor }, index) => {
    const bytes = streamed[index]!.bytes;
    if (bytes) setStreamedRawData(tensor, bytes);
  });
  return copy;
}
