import { describe, expect, it } from "vitest";
import { convertModel } from "../../src/api/convert-model.js";
import { quantizeGguf } from "../../src/api/quantize-gguf.js";
import { renderLineage } from "../../src/cli/render/render-lineage.js";
import { Registry } from "../../src/registry/registry.js";
import { readToolVersions } from "../../src/workflow/tool-versions.js";
import { writeSyntheticQwen2 } from "../fixtures/synthetic-qwen2.js";
import { useTempDir } from "../fixtures/temp-dir.js";

describe("registry lineage of a GGUF made from a Hugging Face folder", () => {
  const temp = useTempDir("lineage-");

  it("shows HF folder → GGUF F16 → Q4_K_M with each pass's options and tool versions", async () => {
    const folder = temp.join("qwen2-tiny");
    await writeSyntheticQwen2(folder);
    const f16 = await convertModel(folder, { to: "gguf", outtype: "F16", output: temp.join("qwen2-tiny-f16.gguf") });
    const q4 = await quantizeGguf(f16.artifact.path, temp.join("qwen2-tiny-q4_k_m.gguf"), { method: "Q4_K_M" });
    const toolVersions = await readToolVersions();
    const stepsOf = (lineage: typeof f16.artifact.lineage) => lineage.map((s) => ({ passId: s.passId, passVersion: s.passVersion, options: s.options }));

    using registry = Registry.open(temp.join("registry.db"));
    const source = await registry.addVersion({ model: "qwen2-tiny", path: folder, version: "hf", command: "test" });
    const converted = await registry.addVersion({ model: "qwen2-tiny", path: f16.artifact.path, version: "f16", command: "test", parentDigest: source.artifactDigest, passes: stepsOf(f16.artifact.lineage), toolVersions });
    const quantized = await registry.addVersion({ model: "qwen2-tiny", path: q4.artifact.path, version: "q4_k_m", command: "test", parentPath: f16.artifact.path, passes: stepsOf(q4.artifact.lineage), toolVersions });
    // the parent given by path resolves to the same artifact as the registered F16 version
    expect(registry.lineage("qwen2-tiny@q4_k_m").producedBy?.parentDigest).toBe(converted.artifactDigest);

    const tree = registry.lineage("qwen2-tiny@q4_k_m");
    expect(tree.artifact.digest).toBe(quantized.artifactDigest);
    expect(tree.producedBy?.passes).toEqual([expect.objectContaining({ passId: "gguf.quantize", options: expect.objectContaining({ method: "Q4_K_M" }) })]);
    expect(tree.parent?.versions).toEqual(["qwen2-tiny@f16"]);
    expect(tree.parent?.producedBy?.passes).toEqual([expect.objectContaining({ passId: "hf.convert.gguf", options: expect.objectContaining({ outtype: "F16" }) })]);
    expect(tree.parent?.parent?.versions).toEqual(["qwen2-tiny@hf"]);
    expect(tree.parent?.parent?.artifact.format).toBe("safetensors");
    expect(tree.parent?.parent?.artifact.files.map((f) => f.name)).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json"]));
    expect(tree.parent?.parent?.parent).toBeUndefined();
    expect(tree.producedBy?.toolVersions["node-llama-cpp"]).toBe(toolVersions["node-llama-cpp"]);

    const text = renderLineage(tree);
    expect(text.indexOf("qwen2-tiny@q4_k_m")).toBeLessThan(text.indexOf("gguf.quantize"));
    expect(text.indexOf("gguf.quantize")).toBeLessThan(text.indexOf("qwen2-tiny@f16"));
    expect(text.indexOf("qwen2-tiny@f16")).toBeLessThan(text.indexOf("hf.convert.gguf"));
    expect(text.indexOf("hf.convert.gguf")).toBeLessThan(text.indexOf("qwen2-tiny@hf"));
    expect(text).toMatch(/method: Q4_K_M/);
    expect(text).toMatch(/outtype: F16/);
  });
});
