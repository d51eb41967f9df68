import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadLlamaQuantizeBinding } from "./llama-quantize-native.js";
import { describeQuantizeParamsMismatch, expectedKvOverrideLayout, expectedQuantizeDefaults, expectedQuantizeParamsLayout, defineQuantizeStructs } from "./quantize-params-struct.js";

// The struct is read from llama.h of the llama.cpp build node-llama-cpp 3.22.1 ships; an upgrade
// that changes it must fail here, not at a user.
describe("llama_model_quantize_params layout", () => {
  it("node-llama-cpp stays pinned to exactly 3.22.1", async () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies["node-llama-cpp"]).toBe("3.22.1");
    const entry = createRequire(import.meta.url).resolve("node-llama-cpp");
    const installed = JSON.parse(await readFile(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string };
    expect(installed.version).toBe("3.22.1");
  });

  it("koffi computes the C layout of llama.h for every field, and the kv-override union is 8-aligned", async () => {
    const koffi = await import("koffi");
    const structs = defineQuantizeStructs(koffi);
    expect(koffi.sizeof(structs.params)).toBe(expectedQuantizeParamsLayout.sizeBytes);
    for (const [field, offset] of Object.entries(expectedQuantizeParamsLayout.offsets)) expect(koffi.offsetof(structs.params, field), field).toBe(offset);
    expect(koffi.sizeof(structs.kvOverride)).toBe(expectedKvOverrideLayout.sizeBytes);
    expect(koffi.offsetof(structs.kvOverride, "key")).toBe(expectedKvOverrideLayout.keyOffset);
    expect(koffi.offsetof(structs.kvOverride, "value")).toBe(expectedKvOverrideLayout.valueOffset);
    expect(koffi.sizeof(structs.imatrixEntry)).toBe(24);
    expect(koffi.sizeof(structs.tensorOverride)).toBe(16);
  });

  it("llama_model_quantize_default_params() from the shipped libllama decodes to llama.cpp's documented defaults", async () => {
    const binding = await loadLlamaQuantizeBinding();
    expect(binding.files.llamaCppRelease).toBeDefined();
    const defaults = binding.defaults();
    expect(defaults.nthread).toBe(0);
    expect(defaults.ftype).toBe(7);
    expect(defaults.output_tensor_type).toBe(43);
    expect(defaults.token_embedding_type).toBe(43);
    expect(defaults.allow_requantize).toBe(false);
    expect(defaults.quantize_output_tensor).toBe(true);
    expect(defaults.only_copy).toBe(false);
    expect(defaults.pure).toBe(false);
    expect(defaults.keep_split).toBe(false);
    expect(defaults.dry_run).toBe(false);
    expect(defaults.imatrix).toBeNull();
    expect(defaults.tt_overrides).toBeNull();
    expect(Number(defaults.max_buf_size)).toBe(8 * 1024 ** 3);
    expect(describeQuantizeParamsMismatch(binding.layout, defaults)).toEqual([]);
  });

  it("reports a shifted field (what an inserted field in a new llama.cpp looks like)", () => {
    const shifted = { ...expectedQuantizeParamsLayout.offsets, imatrix: 32 };
    const problems = describeQuantizeParamsMismatch({ sizeBytes: 72, offsets: shifted }, { ...expectedQuantizeDefaults, quantize_output_tensor: false });
    expect(problems).toEqual(["sizeof 72 (expected 64)", "imatrix at offset 32 (expected 24)", "default quantize_output_tensor = false (expected true)"]);
  });
});
