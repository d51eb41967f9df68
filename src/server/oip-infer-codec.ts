import { randomUUID } from "node:crypto";
import { EdgeforgeError } from "../core/errors.js";
import type { NamedTensors, Tensor, TensorSpec } from "../core/tensor.js";
import {
  checkShape,
  isOipDatatype,
  oipDatatypeFor,
  tensorBytes,
  tensorDataJson,
  tensorFromBinary,
  tensorFromJson,
  type NumericOipDatatype,
} from "../formats/oip/oip-tensors.js";

/** A validated OIP infer request: tensors for the session, and how each output should come back. */
export interface DecodedInferRequest {
  id: string;
  inputs: NamedTensors;
  inputBytes: number;
  outputs: { name: string; binary: boolean }[];
}

export interface EncodedInferResponse {
  /** The body in pieces: the JSON, then each binary output as a view of the tensor (never joined into one copy). */
  pieces: Uint8Array[];
  /** Set when binary outputs follow the JSON header. */
  headerLength?: number;
}

/** Element counts beyond this cannot be a typed array; smaller ones are checked against the bytes actually sent. */
const maxTensorElements = 2 ** 31 - 1;

function invalid(message: string, details: Record<string, unknown> = {}): EdgeforgeError {
  return new EdgeforgeError("INVALID_SHAPE", message, { hint: "see the model's metadata (GET /v2/models/{name}) and the Open Inference Protocol infer request", details });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseHeader(body: Uint8Array, headerLength: number | undefined): Record<string, unknown> {
  const length = headerLength ?? body.byteLength;
  if (!Number.isSafeInteger(length) || length < 0 || length > body.byteLength) {
    throw invalid(`Inference-Header-Content-Length ${headerLength} is outside the ${body.byteLength}-byte body`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(body.buffer, body.byteOffset, length).toString("utf8"));
  } catch (error) {
    throw invalid(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(header)) throw invalid("the request body must be a JSON object");
  return header;
}

function fitsDeclared(dims: number[], spec: TensorSpec): boolean {
  if (dims.length !== spec.shape.length) return false;
  return spec.shape.every((declared, axis) => typeof declared !== "number" || declared < 0 || declared === dims[axis]);
}

/** Decode and validate an infer request against the model's declared inputs and outputs. */
export function decodeInferRequest(body: Uint8Array, headerLength: number | undefined, model: { inputs: TensorSpec[]; outputs: TensorSpec[] }): DecodedInferRequest {
  const header = parseHeader(body, headerLength);
  let binaryOffset = headerLength ?? body.byteLength;
  if (header.id !== undefined && typeof header.id !== "string") throw invalid("id must be a string");
  if (header.parameters !== undefined && !isObject(header.parameters)) throw invalid("parameters must be an object");
  if (!Array.isArray(header.inputs) || header.inputs.length === 0) throw invalid("inputs must be a non-empty array");
  const inputs: NamedTensors = {};
  let inputBytes = 0;
  for (const raw of header.inputs as unknown[]) {
    if (!isObject(raw) || typeof raw.name !== "string") throw invalid("each input needs a string name");
    const name = raw.name;
    const spec = model.inputs.find((candidate) => candidate.name === name);
    if (!spec) throw invalid(`the model has no input "${name}"`, { expected: model.inputs.map((i) => i.name) });
    if (inputs[name]) throw invalid(`input "${name}" is given twice`);
    if (!isOipDatatype(raw.datatype)) throw invalid(`input "${name}": datatype ${JSON.stringify(raw.datatype)} is not an Open Inference Protocol datatype`);
    const expected = oipDatatypeFor(spec.dtype);
    if (raw.datatype !== expected) throw invalid(`input "${name}" is ${expected ?? spec.dtype}, not ${raw.datatype}`, { input: name, expected, datatype: raw.datatype });
    if (raw.datatype === "BYTES") throw invalid(`input "${name}": BYTES inputs are not supported by the ONNX runtime here`);
    const datatype = raw.datatype as NumericOipDatatype;
    const dims = checkShape(name, raw.shape, maxTensorElements);
    if (!fitsDeclared(dims, spec)) throw invalid(`input "${name}" has shape ${JSON.stringify(dims)}; the model declares ${JSON.stringify(spec.shape)}`, { input: name, shape: dims, declared: spec.shape });
    const parameters = raw.parameters === undefined ? {} : raw.parameters;
    if (!isObject(parameters)) throw invalid(`input "${name}": parameters must be an object`);
    let tensor: Tensor;
    if (parameters.binary_data_size !== undefined) {
      const size = parameters.binary_data_size;
      if (headerLength === undefined) throw invalid(`input "${name}" has binary_data_size but the request has no Inference-Header-Content-Length header`);
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 || binaryOffset + size > body.byteLength) {
        throw invalid(`input "${name}": binary_data_size ${JSON.stringify(size)} does not fit the ${body.byteLength - binaryOffset} binary bytes left`);
      }
      if (raw.data !== undefined) throw invalid(`input "${name}" has both data and binary_data_size`);
      tensor = tensorFromBinary(name, datatype, dims, body.subarray(binaryOffset, binaryOffset + size));
      binaryOffset += size;
    } else {
      if (raw.data === undefined) throw invalid(`input "${name}" has no data`);
      tensor = tensorFromJson(name, datatype, dims, raw.data);
    }
    inputBytes += tensor.data.byteLength;
    inputs[name] = tensor;
  }
  if (binaryOffset !== body.byteLength) throw invalid(`${body.byteLength - binaryOffset} bytes of binary data follow the inputs that claim them`);
  const missing = model.inputs.filter((spec) => !inputs[spec.name]).map((spec) => spec.name);
  if (missing.length > 0) throw invalid(`missing input${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")}`, { missing });

  const allBinary = isObject(header.parameters) && header.parameters.binary_data_output === true;
  let outputs: { name: string; binary: boolean }[];
  if (header.outputs === undefined) {
    outputs = model.outputs.map((spec) => ({ name: spec.name, binary: allBinary }));
  } else {
    if (!Array.isArray(header.outputs)) throw invalid("outputs must be an array");
    outputs = (header.outputs as unknown[]).map((raw) => {
      if (!isObject(raw) || typeof raw.name !== "string") throw invalid("each requested output needs a string name");
      const name = raw.name;
      if (!model.outputs.some((spec) => spec.name === name)) throw invalid(`the model has no output "${name}"`, { expected: model.outputs.map((o) => o.name) });
      const parameters = isObject(raw.parameters) ? raw.parameters : {};
      return { name, binary: parameters.binary_data === undefined ? allBinary : parameters.binary_data === true };
    });
  }
  return { id: typeof header.id === "string" ? header.id : randomUUID(), inputs, inputBytes, outputs };
}

/** Build the infer response: JSON text built directly (exact 64-bit integers), binary outputs appended after it. */
export function encodeInferResponse(request: DecodedInferRequest, model: { name: string; version: string }, results: NamedTensors): EncodedInferResponse {
  const binaries: Uint8Array[] = [];
  const parts = request.outputs.map(({ name, binary }) => {
    const tensor = results[name];
    if (!tensor) throw new EdgeforgeError("RUNTIME_FAILED", `the runtime returned no output "${name}"`, { hint: "this is a bug; please report it with the model" });
    const datatype = oipDatatypeFor(tensor.dtype) ?? tensor.dtype;
    const head = `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":${JSON.stringify(tensor.dims)}`;
    if (binary) {
      const bytes = tensorBytes(tensor);
      binaries.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    }
    return `${head},"data":[${tensorDataJson(tensor)}]}`;
  });
  const json = Buffer.from(`{"id":${JSON.stringify(request.id)},"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)},"outputs":[${parts.join(",")}]}`, "utf8");
  if (binaries.length === 0) return { pieces: [json] };
  return { pieces: [json, ...binaries], headerLength: json.byteLength };
}
