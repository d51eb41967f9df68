import { describe, expect, it } from "vitest";
import { probeRuntimes, spawnEngineProbe, summarizeRuntimeAvailability } from "../../src/runtimes/probe-runtimes.js";

describe("probeRuntimes on this machine", () => {
  it("proves ONNX Runtime's CPU provider by running the probe model on it, and tries every listed provider", async () => {
    const probes = await probeRuntimes();
    const ort = probes.find((probe) => probe.framework === "onnxruntime");
    expect(ort).toMatchObject({ runtime: "ort", installed: true, available: true });
    const cpu = ort?.backends.find((backend) => backend.backend === "cpu");
    expect(cpu).toMatchObject({ works: true, details: { ranOn: ["CPUExecutionProvider"] } });
    // Every provider the package lists was tried, and each failure says why.
    const listed = ort?.details.listedBackends as string[];
    expect(ort?.backends.map((backend) => backend.backend)).toEqual(expect.arrayContaining(listed));
    for (const backend of ort?.backends ?? []) if (!backend.works) expect(backend.reason).toBeTruthy();

    const llama = probes.find((probe) => probe.framework === "llama.cpp");
    expect(llama).toMatchObject({ runtime: "llama-cpp", installed: true, available: true, version: "3.22.1" });
    expect(llama?.backends.find((backend) => backend.backend === "cpu")?.works).toBe(true);
    expect(llama?.details.buildType).toMatch(/prebuilt|localBuild/);
    expect(llama?.backends.map((backend) => backend.backend)).toEqual(["cpu", "cuda", "vulkan", "metal"]);

    expect(probes.find((probe) => probe.framework === "openvino")).toMatchObject({
      installed: false,
      available: false,
      reason: "openvino-node is not installed",
    });
    const mlx = probes.find((probe) => probe.framework === "mlx");
    if (process.platform !== "darwin") expect(mlx?.reason).toBe("MLX runs only on Apple silicon (macOS arm64)");

    const availability = summarizeRuntimeAvailability(probes);
    expect(availability.find((runtime) => runtime.framework === "onnxruntime")?.workingBackends).toContain("cpu");
  });

  it("turns a probe that overruns its time limit into a reason instead of hanging", async () => {
    const probe = await spawnEngineProbe("llama.cpp", { timeoutMs: 1 });
    expect(probe).toMatchObject({ framework: "llama.cpp", available: false, reason: "probe timed out after 1 ms" });
  });
});
