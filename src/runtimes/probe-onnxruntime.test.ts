import { describe, expect, it } from "vitest";
import { cleanOrtError } from "./probe-onnxruntime.js";

describe("cleanOrtError", () => {
  it("keeps the message of an ORT assertion and drops the source location", () => {
    const raw =
      "/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters";
    expect(cleanOrtError(raw)).toBe("Failed to get a WebGPU adapter: No supported adapters");
    expect(cleanOrtError("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library")).toBe(
      "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library",
    );
  });
});
