import type * as Koffi from "koffi";
import { EdgeforgeError } from "../../core/errors.js";
import { findLlamaLibrary, type LlamaLibraryFiles } from "./find-llama-library.js";
import {
  defineQuantizeStructs,
  describeQuantizeParamsMismatch,
  ggmlTypeCount,
  kvOverrideTags,
  quantizeParamsLayout,
  type QuantizeStructs,
  type StructLayout,
} from "./quantize-params-struct.js";

/** Everything llama_model_quantize needs, as plain data (it crosses the process boundary). */
export interface NativeQuantizeRequest {
  inputPath: string;
  outputPath: string;
  ftype: number;
  /** ≤ 0 lets llama.cpp use std::thread::hardware_concurrency(). */
  threads: number;
  allowRequantize: boolean;
  quantizeOutputTensor: boolean;
  pure: boolean;
  /** ggml type ids; undefined keeps llama.cpp's choice. */
  outputTensorType?: number;
  tokenEmbeddingType?: number;
  /** Regex pattern → ggml type id, first match wins (llama-quantize --tensor-type). */
  tensorTypeOverrides: Array<{ pattern: string; type: number }>;
  /** Per-tensor importance (mean squared activation per input column). */
  imatrix?: Array<{ name: string; values: Float32Array }>;
  /** Metadata written into the output (llama-quantize records the imatrix provenance this way). */
  kvOverrides: Array<{ key: string; value: number | string }>;
}

/** ggml_log_level. */
export type NativeLogLevel = "debug" | "info" | "warn" | "error";
const logLevels: Record<number, NativeLogLevel> = { 1: "debug", 2: "info", 3: "warn", 4: "error" };

export interface LlamaQuantizeBinding {
  files: LlamaLibraryFiles;
  layout: StructLayout;
  defaults(): Record<string, unknown>;
  /** Runs llama_model_quantize off the JS thread; resolves with its return code (0 = success). */
  quantize(request: NativeQuantizeRequest, onLog: (level: NativeLogLevel, line: string) => void): Promise<number>;
}

/**
 * Load libllama from node-llama-cpp's prebuilt binaries through koffi and check the params
 * struct against the library before anything can be written. Loading ggml first makes the
 * dependency resolution independent of the platform's rpath handling.
 */
export async function loadLlamaQuantizeBinding(): Promise<LlamaQuantizeBinding> {
  const files = await findLlamaLibrary();
  let koffi: typeof Koffi;
  try {
    koffi = await import("koffi");
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", "the koffi FFI package could not be loaded", {
      hint: "reinstall dependencies with `npm install`; koffi ships prebuilt binaries for common platforms",
      cause: error,
    });
  }
  let library: Koffi.LibraryHandle;
  try {
    for (const dependency of files.dependencies) koffi.load(dependency);
    library = koffi.load(files.libllama);
  } catch (error) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `cannot load ${files.libllama}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "the prebuilt llama.cpp does not load on this machine (missing system libraries or an unsupported CPU); reinstall node-llama-cpp",
      details: { libllama: files.libllama },
      cause: error,
    });
  }
  const structs = defineQuantizeStructs(koffi);
  const defaultsFn = library.func("llama_model_quantize_default_params", structs.params, []);
  const quantizeFn = library.func("llama_model_quantize", "uint32_t", ["str", "str", koffi.pointer(structs.params)]);
  const logSet = library.func("llama_log_set", "void", [koffi.pointer(structs.logCallback), "void *"]);
  const backendInit = library.func("llama_backend_init", "void", []);
  const layout = quantizeParamsLayout(koffi, structs);
  const defaults = (): Record<string, unknown> => defaultsFn() as Record<string, unknown>;

  const mismatch = describeQuantizeParamsMismatch(layout, defaults());
  if (mismatch.length > 0) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", `llama.cpp's llama_model_quantize_params differs from what edgeforge was built for: ${mismatch.join("; ")}`, {
      hint: "node-llama-cpp must stay pinned at 3.22.1; reinstall with `npm ci`",
      details: { libllama: files.libllama, release: files.llamaCppRelease, mismatch },
    });
  }
  backendInit();

  return {
    files,
    layout,
    defaults,
    async quantize(request, onLog) {
      const memory = new NativeMemory(koffi);
      const params = { ...defaults(), ...buildParams(koffi, structs, memory, request) };
      const lines = new LineSplitter(onLog);
      const callback = koffi.register((level: number, text: string | null) => lines.push(logLevels[level], text ?? ""), koffi.pointer(structs.logCallback));
      logSet(callback, null);
      try {
        return await new Promise<number>((resolve, reject) => {
          quantizeFn.async(request.inputPath, request.outputPath, params, (error: unknown, code: number) => (error ? reject(error) : resolve(code)));
        });
      } finally {
        lines.flush();
        logSet(null, null);
        koffi.unregister(callback);
        memory.free();
      }
    },
  };
}

function buildParams(koffi: typeof Koffi, structs: QuantizeStructs, memory: NativeMemory, request: NativeQuantizeRequest): Record<string, unknown> {
  const params: Record<string, unknown> = {
    nthread: request.threads,
    ftype: request.ftype,
    output_tensor_type: request.outputTensorType ?? ggmlTypeCount,
    token_embedding_type: request.tokenEmbeddingType ?? ggmlTypeCount,
    allow_requantize: request.allowRequantize,
    quantize_output_tensor: request.quantizeOutputTensor,
    pure: request.pure,
  };
  if (request.imatrix && request.imatrix.length > 0) {
    const entries = request.imatrix;
    const size = koffi.sizeof(structs.imatrixEntry);
    const array = memory.alloc(structs.imatrixEntry, entries.length + 1);
    entries.forEach((entry, index) => {
      const data = memory.alloc("float", entry.values.length);
      koffi.encode(data, koffi.array("float", entry.values.length, "Typed"), entry.values);
      koffi.encode(array, index * size, structs.imatrixEntry, { name: memory.cString(entry.name), data, size: entry.values.length });
    });
    koffi.encode(array, entries.length * size, structs.imatrixEntry, { name: null, data: null, size: 0 });
    params.imatrix = array;
  }
  if (request.tensorTypeOverrides.length > 0) {
    const overrides = request.tensorTypeOverrides;
    const size = koffi.sizeof(structs.tensorOverride);
    const array = memory.alloc(structs.tensorOverride, overrides.length + 1);
    overrides.forEach((override, index) => {
      koffi.encode(array, index * size, structs.tensorOverride, { pattern: memory.cString(override.pattern), type: override.type });
    });
    koffi.encode(array, overrides.length * size, structs.tensorOverride, { pattern: null, type: ggmlTypeCount });
    params.tt_overrides = array;
  }
  if (request.kvOverrides.length > 0) {
    const overrides = request.kvOverrides;
    const size = koffi.sizeof(structs.kvOverride);
    const array = memory.alloc(structs.kvOverride, overrides.length + 1);
    overrides.forEach((override, index) => {
      koffi.encode(array, index * size, structs.kvOverride, encodeKvOverride(override.key, override.value));
    });
    // The list ends at an entry whose key is empty.
    koffi.encode(array, overrides.length * size, structs.kvOverride, { tag: 0, key: new Uint8Array(128), value: new Uint8Array(128) });
    params.kv_overrides = array;
  }
  return params;
}

function fixedString(text: string): Uint8Array {
  const bytes = new Uint8Array(128);
  const encoded = new TextEncoder().encode(text);
  if (encoded.length > 127) {
    throw new EdgeforgeError("INVALID_OPTION", `metadata value "${text.slice(0, 40)}…" is longer than llama.cpp's 127-byte override limit`, {
      hint: "use a shorter value",
    });
  }
  bytes.set(encoded);
  return bytes;
}

function encodeKvOverride(key: string, value: number | string): { tag: number; key: Uint8Array; value: Uint8Array } {
  if (typeof value === "string") return { tag: kvOverrideTags.str, key: fixedString(key), value: fixedString(value) };
  const union = new Uint8Array(128);
  new DataView(union.buffer).setBigInt64(0, BigInt(Math.trunc(value)), true);
  return { tag: kvOverrideTags.int, key: fixedString(key), value: union };
}

/** Native allocations for one call, released together (llama.cpp keeps no pointer after returning). */
class NativeMemory {
  private readonly pointers: unknown[] = [];
  constructor(private readonly koffi: typeof Koffi) {}

  alloc(type: Parameters<typeof Koffi.alloc>[0], count: number): unknown {
    const pointer: unknown = this.koffi.alloc(type, count);
    this.pointers.push(pointer);
    return pointer;
  }

  cString(text: string): unknown {
    const bytes = new TextEncoder().encode(`${text}\0`);
    const pointer = this.alloc("uint8_t", bytes.length);
    this.koffi.encode(pointer, this.koffi.array("uint8_t", bytes.length, "Typed"), bytes);
    return pointer;
  }

  free(): void {
    for (const pointer of this.pointers.splice(0)) this.koffi.free(pointer);
  }
}

/** llama.cpp logs fragments (GGML_LOG_LEVEL_CONT continues the previous level); emit whole lines. */
class LineSplitter {
  private buffer = "";
  private level: NativeLogLevel = "info";
  constructor(private readonly onLine: (level: NativeLogLevel, line: string) => void) {}

  push(level: NativeLogLevel | undefined, text: string): void {
    if (level && level !== this.level && this.buffer.length > 0) this.flush();
    if (level) this.level = level;
    this.buffer += text;
    let newline = this.buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim().length > 0) this.onLine(this.level, line);
      newline = this.buffer.indexOf("\n");
    }
  }

  flush(): void {
    if (this.buffer.trim().length > 0) this.onLine(this.level, this.buffer);
    this.buffer = "";
  }
}
