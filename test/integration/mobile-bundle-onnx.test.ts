import { describe, expect, it } from "vitest";
import { quantize } from "../../src/api/quantize.js";
import { buildMobileBundle } from "../../src/deploy/mobile-bundle.js";
import { readArtifactInput } from "../../src/deploy/read-package-input.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("mobile-onnx-");

describe("an android bundle of an ONNX audio model (Silero VAD, int8-dynamic: its only int8 kernels are DynamicQuantizeLSTM)", () => {
  it("reads int8 from the graph and holds it to the ONNX configuration, not the language-model row (llama.cpp, Q4_K_M)", async () => {
    const int8 = await quantize(realOnnxModels.vad, { method: "int8-dynamic", output: temp.join("vad_int8.onnx") });
    const manifest = await buildMobileBundle(await readArtifactInput(int8.output.path), { platform: "android" });
    expect(manifest.model.quantization).toBe("int8");
    const advice = manifest.checks.find((c) => !c.required);
    expect(advice).toMatchObject({ name: "the workflow's ONNX configuration (ONNX Runtime, int8)", passed: true, detail: "this package: ONNX Runtime, int8" });
  });
});
