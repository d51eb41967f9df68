import { describe, expect, it } from "vitest";
import { runCli } from "../fixtures/run-cli.js";




describe("edgeforge hw (built CLI)", () => {
  it("hw --json prints one versioned record with sane figures for this machine, and proves ORT's CPU provider", async () => {
    const result = await runCli(["hw", "--json"]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record.schemaVersion).toBe(1);
    expect(record.target).toMatchObject({ name: "local", origin: "detected" });
    const { cpu, memory } = record.hardware;
    expect(cpu.logicalThreads).toBeGreaterThanOrEqual(1);
    expect(cpu.physicalCores === "unknown" || cpu.physicalCores >= 1).toBe(true);
    expect(memory.totalMemoryBytes).toBeGreaterThan(0);
    expect(memory.availableMemoryBytes).toBeLessThanOrEqual(memory.totalMemoryBytes);
    expect(record.target.memoryBudgetBytes).toBe(Math.floor(memory.availableMemoryBytes * 0.8));
    const ort = record.runtimes.find((probe: { framework: string }) => probe.framework === "onnxruntime");
    expect(ort.backends.find((backend: { backend: string }) => backend.backend === "cpu")).toMatchObject({ works: true });
    expect(Object.keys(record.recommendations)).toEqual(["llm", "vision", "audio", "other"]);
    expect(record.recommendations.vision[0].usable).toBe(true);
  });

  it("hw --target raspberry-pi-5-8gb --json describes the profile and recommends llama.cpp for LLMs", async () => {
    const result = await runCli(["hw", "--target", "raspberry-pi-5-8gb", "--json"]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record).toMatchObject({ schemaVersion: 1, hardware: null, runtimes: null });
    expect(record.target).toMatchObject({ name: "raspberry-pi-5-8gb", origin: "profile", cpu: { arch: "arm64", cores: 4 } });
    expect(record.recommendations.llm[0]).toMatchObject({ framework: "llama.cpp", usable: true });
    expect(record.availableRuntimes.find((runtime: { framework: string }) => runtime.framework === "openvino")).toMatchObject({ installed: false });
  });

  it("hw --target nope fails with UNKNOWN_TARGET, a hint naming the profiles, and exit code 1", async () => {
    const result = await runCli(["hw", "--target", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("error[UNKNOWN_TARGET]");
    expect(result.stderr).toMatch(/hint: .*raspberry-pi-5-8gb/);
  });

  it("hw --list-targets --json lists every shipped profile", async () => {
    const result = await runCli(["hw", "--list-targets", "--json"]);
    expect(result.code).toBe(0);
    const names = JSON.parse(result.stdout).targets.map((target: { name: string }) => target.name);
    expect(names).toEqual(expect.arrayContaining(["raspberry-pi-5-8gb", "jetson-orin-nano-8gb", "apple-m2-8gb", "x86-avx512-server"]));
  });

  it("hw (human) writes aligned sections to stderr and nothing to stdout", async () => {
    const result = await runCli(["hw", "--no-probe"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    for (const section of ["OS", "CPU", "Memory", "GPUs", "NPUs", "Target", "Runtimes", "Recommended"]) {
      expect(result.stderr).toMatch(new RegExp(`^${section}\\b`, "m"));
    }
  });
});
