import { EdgeforgeError } from "../core/errors.js";
import { elementCount, type Tensor } from "../core/tensor.js";
import {
  bytesPerElement,
  encodeBytesElements,
  isOipDatatype,
  oipDatatypes,
  tensorBytes,
  tensorDataJson,
  tensorFromBinary,
  tensorFromJson,
  type NumericOipDatatype,
  type OipDatatype,
} from "../formats/oip/oip-tensors.js";

export interface ConformanceCheck {
  /** e.g. "health/live", "infer json FP16 (model/input)". */
  name: string;
  status: "pass" | "fail";
  detail: string;
}

export interface ConformanceResult {
  url: string;
  checks: ConformanceCheck[];
  passed: boolean;
  /** Datatypes exercised by infer requests (JSON and binary). */
  datatypes: OipDatatype[];
}

export interface ConformanceOptions {
  /** Models to check; default: the repository index (POST /v2/repository/index). */
  models?: string[];
  /** Bearer token for servers that require one. */
  token?: string;
  /** Shapes for inputs by name (every model's input of that name), where the metadata's -1 dims would get 1 (batch) or 2. */
  shapes?: Record<string, number[]>;
  /** Per-request timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

interface ModelMetadata {
  name: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

interface ResponseOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown;
  parameters?: { binary_data_size?: number };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Small, valid values for each datatype (positions cycle, so every element is checked). */
function sampleValue(datatype: OipDatatype, index: number): number | boolean | string {
  if (datatype === "BOOL") return index % 2 === 0;
  if (datatype === "BYTES") return `s${index}`;
  if (datatype.startsWith("FP") || datatype === "BF16") return [0.5, -1.25, 2, 0.125][index % 4]!;
  if (datatype.startsWith("UINT")) return (index * 7) % 200;
  return ((index * 7) % 200) - 100;
}

/**
 * Byte-equal little-endian elements, except that a float's −0 equals +0: JSON has one zero
 * (JSON.stringify(-0) is "0"), so a server's JSON cannot say which one the binary output holds.
 */
function sameValues(a: Uint8Array, b: Uint8Array, width: number, isFloat: boolean): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let at = 0; at < a.byteLength; at += width) {
    let equal = true;
    let zeros = true;
    for (let i = 0; i < width; i++) {
      const [x, y] = [a[at + i]!, b[at + i]!];
      if (x !== y) equal = false;
      // All bits zero but the sign bit (the last byte's top bit).
      if ((i === width - 1 ? (x | y) & 0x7f : x | y) !== 0) zeros = false;
    }
    if (!equal && !(isFloat && zeros)) return false;
  }
  return true;
}

/** The shape to send: the override when it fits the declared one (same rank, fixed dims equal), else -1 dims as 1 (batch) or 2. */
function concreteShape(shape: number[], override: number[] | undefined): { dims: number[]; problem?: string } {
  if (override) {
    const fits = override.length === shape.length && shape.every((dim, axis) => dim < 0 || dim === override[axis]);
    if (fits) return { dims: override };
    return { dims: [], problem: `--shape ${override.join("x") || "scalar"} does not fit the declared [${shape.join(", ")}]` };
  }
  return { dims: shape.map((dim, axis) => (dim >= 0 ? dim : axis === 0 ? 1 : 2)) };
}

/**
 * Check a server against the Open Inference Protocol REST API: health, metadata, infer with each
 * datatype its models declare (JSON and the binary tensor extension, which must agree), and the
 * error shapes ({"error": "…"} with 4xx). Any server can be checked; nothing is assumed about its models
 * beyond their metadata, and every request is bounded by `timeoutMs`.
 */
export async function checkOipConformance(url: string, options: ConformanceOptions = {}): Promise<ConformanceResult> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new EdgeforgeError("INVALID_OPTION", `${url} is not a URL`, { hint: "e.g. edgeforge conformance http://127.0.0.1:8080" });
  }
  const root = base.href.replace(/\/$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const checks: ConformanceCheck[] = [];
  const datatypes = new Set<OipDatatype>();
  const record = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, status: ok ? "pass" : "fail", detail });
    return ok;
  };
  const request = async (method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    const response = await fetch(`${root}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...headers },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.any(signals),
    });
    return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
  };
  const json = (bytes: Uint8Array): unknown => {
    try {
      return JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch {
      return undefined;
    }
  };
  const attempt = async (name: string, run: () => Promise<boolean | void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      options.signal?.throwIfAborted();
      record(name, false, error instanceof Error ? error.message : String(error));
    }
  };

  await attempt("health/live", async () => {
    const response = await request("GET", "/v2/health/live");
    const body = json(response.bytes);
    record("health/live", response.status === 200 && (response.bytes.byteLength === 0 || (isObject(body) && body.live === true)), `HTTP ${response.status}`);
  });
  await attempt("health/ready", async () => {
    const response = await request("GET", "/v2/health/ready");
    record("health/ready", response.status === 200, `HTTP ${response.status}`);
  });
  await attempt("server metadata", async () => {
    const response = await request("GET", "/v2");
    const body = json(response.bytes);
    const ok = response.status === 200 && isObject(body) && typeof body.name === "string" && typeof body.version === "string" && Array.isArray(body.extensions);
    record("server metadata", ok, ok && isObject(body) ? `${body.name} ${body.version}, extensions: ${(body.extensions as string[]).join(", ") || "none"}` : `HTTP ${response.status}`);
  });

  let models = options.models ?? [];
  const shapesUsed = new Set<string>();
  if (models.length === 0) {
    await attempt("repository index", async () => {
      const response = await request("POST", "/v2/repository/index", "{}");
      const body = json(response.bytes);
      const ok = response.status === 200 && Array.isArray(body);
      if (ok) models = [...new Set((body as unknown[]).filter(isObject).filter((m) => m.state === undefined || m.state === "READY").map((m) => String(m.name)))];
      record("repository index", ok && models.length > 0, ok ? `${models.length} ready model(s)` : `HTTP ${response.status}: name models with --model when the index is not available`);
    });
  }

  for (const model of models) {
    const path = `/v2/models/${encodeURIComponent(model)}`;
    let metadata: ModelMetadata | undefined;
    await attempt(`model metadata (${model})`, async () => {
      const response = await request("GET", path);
      const body = json(response.bytes);
      const tensorsOk = (list: unknown): boolean => Array.isArray(list) && list.every((t) => isObject(t) && typeof t.name === "string" && isOipDatatype(t.datatype) && Array.isArray(t.shape));
      const ok = response.status === 200 && isObject(body) && body.name === model && tensorsOk(body.inputs) && tensorsOk(body.outputs);
      if (ok) metadata = body as unknown as ModelMetadata;
      record(`model metadata (${model})`, ok, ok ? `${metadata!.inputs.length} input(s), ${metadata!.outputs.length} output(s)` : `HTTP ${response.status}`);
    });
    await attempt(`model ready (${model})`, async () => {
      const response = await request("GET", `${path}/ready`);
      record(`model ready (${model})`, response.status === 200, `HTTP ${response.status}`);
    });
    if (!metadata) continue;
    const shaped = metadata.inputs.map((input) => {
      if (options.shapes?.[input.name]) shapesUsed.add(input.name);
      return { input, ...concreteShape(input.shape, options.shapes?.[input.name]) };
    });
    const misfit = shaped.filter((s) => s.problem !== undefined);
    if (misfit.length > 0) {
      record(`input shapes (${model})`, false, misfit.map((s) => `${s.input.name}: ${s.problem}`).join("; "));
      continue;
    }
    const inputs = shaped.map(({ input, dims }) => {
      const datatype = input.datatype as OipDatatype;
      const values = Array.from({ length: elementCount(dims) }, (_, i) => sampleValue(datatype, i));
      return { input, datatype, dims, values };
    });

    let jsonOutputs: ResponseOutput[] | undefined;
    const inferName = `infer json (${model}: ${[...new Set(inputs.map((i) => i.datatype))].join(", ")})`;
    await attempt(inferName, async () => {
      const body = JSON.stringify({ id: "conformance-1", inputs: inputs.map(({ input, datatype, dims, values }) => ({ name: input.name, shape: dims, datatype, data: values })) });
      const response = await request("POST", `${path}/infer`, body);
      const parsed = json(response.bytes);
      const outputs = isObject(parsed) && Array.isArray(parsed.outputs) ? (parsed.outputs as ResponseOutput[]) : undefined;
      const problems: string[] = [];
      if (response.status !== 200) problems.push(`HTTP ${response.status}${isObject(parsed) && typeof parsed.error === "string" ? `: ${parsed.error}` : ""}`);
      else if (!isObject(parsed) || parsed.model_name !== model || !outputs) problems.push("response lacks model_name or outputs");
      else {
        if (parsed.id !== "conformance-1") problems.push("id not echoed");
        for (const output of outputs) {
          if (!isOipDatatype(output.datatype) || !Array.isArray(output.shape) || !Array.isArray(output.data)) problems.push(`output ${output.name} lacks datatype, shape or data`);
          else if (output.datatype !== "BYTES") tensorFromJson(output.name, output.datatype as NumericOipDatatype, output.shape, output.data);
        }
      }
      if (problems.length === 0) {
        jsonOutputs = outputs;
        for (const { datatype } of inputs) datatypes.add(datatype);
      }
      record(inferName, problems.length === 0, problems.join("; ") || `${outputs!.length} output(s)`);
    });

    const binaryName = `infer binary extension (${model})`;
    await attempt(binaryName, async () => {
      const tensors = inputs.map(({ input, datatype, dims, values }) => ({
        input,
        datatype,
        dims,
        bytes: datatype === "BYTES" ? encodeBytesElements(values.map((v) => Buffer.from(String(v)))) : tensorBytes(tensorFromJson(input.name, datatype as NumericOipDatatype, dims, values)),
      }));
      const header = Buffer.from(
        JSON.stringify({
          inputs: tensors.map(({ input, datatype, dims, bytes }) => ({ name: input.name, shape: dims, datatype, parameters: { binary_data_size: bytes.byteLength } })),
          parameters: { binary_data_output: true },
        }),
      );
      const response = await request("POST", `${path}/infer`, Buffer.concat([header, ...tensors.map((t) => t.bytes)]), { "content-type": "application/octet-stream", "inference-header-content-length": String(header.byteLength) });
      const problems: string[] = [];
      const headerLength = Number(response.headers.get("inference-header-content-length"));
      if (response.status !== 200) problems.push(`HTTP ${response.status}`);
      else if (!Number.isSafeInteger(headerLength) || headerLength <= 0 || headerLength > response.bytes.byteLength) problems.push("no valid Inference-Header-Content-Length in the response");
      else {
        const parsed = json(response.bytes.subarray(0, headerLength));
        const outputs = isObject(parsed) && Array.isArray(parsed.outputs) ? (parsed.outputs as ResponseOutput[]) : [];
        let offset = headerLength;
        for (const output of outputs) {
          const size = output.parameters?.binary_data_size;
          if (typeof size !== "number" || offset + size > response.bytes.byteLength) {
            problems.push(`output ${output.name}: binary_data_size missing or past the body`);
            break;
          }
          const bytes = response.bytes.subarray(offset, offset + size);
          offset += size;
          if (output.datatype === "BYTES" || !isOipDatatype(output.datatype)) continue;
          const datatype = output.datatype as NumericOipDatatype;
          if (size !== elementCount(output.shape) * bytesPerElement(datatype)) problems.push(`output ${output.name}: ${size} bytes do not fit shape ${JSON.stringify(output.shape)}`);
          const fromJson = jsonOutputs?.find((o) => o.name === output.name);
          if (fromJson && Array.isArray(fromJson.data)) {
            const binaryTensor: Tensor = tensorFromBinary(output.name, datatype, output.shape, bytes);
            const jsonTensor = tensorFromJson(output.name, datatype, fromJson.shape, fromJson.data);
            if (!sameValues(tensorBytes(binaryTensor), tensorBytes(jsonTensor), bytesPerElement(datatype), datatype.startsWith("FP") || datatype === "BF16")) problems.push(`output ${output.name}: binary values differ from JSON values (${tensorDataJson(binaryTensor).slice(0, 60)}…)`);
          }
        }
        if (outputs.length === 0) problems.push("no outputs in the JSON header");
        else if (offset !== response.bytes.byteLength) problems.push(`${response.bytes.byteLength - offset} bytes after the last output`);
      }
      record(binaryName, problems.length === 0, problems.join("; ") || "binary outputs equal the JSON outputs byte for byte (−0 and +0 alike: JSON has one zero)");
    });

    const first = inputs[0];
    if (first) {
      const wrongDatatype = first.datatype === "FP32" ? "INT32" : "FP32";
      await errorCheck(`error: wrong datatype (${model})`, `${path}/infer`, JSON.stringify({ inputs: inputs.map(({ input, datatype, dims, values }) => ({ name: input.name, shape: dims, datatype: input === first.input ? wrongDatatype : datatype, data: values })) }), 400);
      await errorCheck(`error: wrong shape (${model})`, `${path}/infer`, JSON.stringify({ inputs: inputs.map(({ input, datatype, dims, values }) => ({ name: input.name, shape: input === first.input ? [...dims, 2] : dims, datatype, data: values })) }), 400);
    }
    await errorCheck(`error: malformed JSON (${model})`, `${path}/infer`, "{\"inputs\": [", 400);
  }
  await errorCheck("error: unknown model", "/v2/models/edgeforge-conformance-no-such-model/infer", JSON.stringify({ inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [1] }] }), 404);

  async function errorCheck(name: string, path: string, body: string, expected: number): Promise<void> {
    await attempt(name, async () => {
      const response = await request("POST", path, body);
      const parsed = json(response.bytes);
      const shaped = isObject(parsed) && typeof parsed.error === "string" && parsed.error.length > 0;
      record(name, response.status === expected && shaped, `HTTP ${response.status}${shaped ? `: ${(parsed as { error: string }).error.slice(0, 80)}` : ", body is not {\"error\": \"…\"}"} (expected ${expected})`);
    });
  }

  const ordered = (Object.keys(oipDatatypes) as OipDatatype[]).filter((d) => datatypes.has(d));
  const unused = Object.keys(options.shapes ?? {}).filter((name) => !shapesUsed.has(name));
  if (unused.length > 0) record("input shapes", false, `--shape names no input of the models checked: ${unused.join(", ")}`);
  return { url: root, checks, passed: checks.length > 0 && checks.every((c) => c.status !== "fail"), datatypes: ordered };
}

/** The checks as a fixed-width table for humans. */
export function renderConformanceTable(result: ConformanceResult): string {
  const width = Math.max(5, ...result.checks.map((c) => c.name.length));
  const lines = [`${"check".padEnd(width)}  result  detail`, `${"-".repeat(width)}  ------  ------`];
  for (const check of result.checks) lines.push(`${check.name.padEnd(width)}  ${check.status.toUpperCase().padEnd(6)}  ${check.detail}`);
  const failed = result.checks.filter((c) => c.status === "fail").length;
  lines.push("", `${result.url}: ${result.checks.length - failed}/${result.checks.length} checks passed; datatypes exercised: ${result.datatypes.join(", ") || "none"}`);
  return lines.join("\n");
}
