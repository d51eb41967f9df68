import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatCpuList, parseCpuList, readPinnableCpus } from "../../src/bench/cpu-affinity.js";
import { measureInterleaved, measureSideBySide, roundOrder } from "../../src/bench/measure-side-by-side.js";
import { runBenchmark } from "../../src/bench/run-benchmark.js";
import { llmModelsDir, llmTestThreads, tinyLlamaF16 } from "../fixtures/llm-models.js";

const mnist = join(llmModelsDir, "mnist-8.onnx");
// Few, short blocks: these tests prove the protocol and the bookkeeping, never a speed.
const quick = { blockMs: 20, minRounds: 4, maxRounds: 6, warmupIterations: 1 } as const;

describe("side-by-side measurement in alternating blocks", () => {
  it("alternates the order of the arms from round to round", () => {
    expect(roundOrder(2, 0)).toEqual([0, 1]);
    expect(roundOrder(2, 1)).toEqual([1, 0]);
    expect(roundOrder(3, 3)).toEqual([2, 1, 0]);
  });

  it("measures two ONNX arms with a ratio per round, an interval, a decision and model-attributable memory", async () => {
    const result = await measureSideBySide({
      ...quick,
      baseline: { label: "mnist threads 1", artifactPath: mnist, format: "onnx", runtime: "ort", settings: { threads: 1 } },
      candidate: { label: "mnist no arena", artifactPath: mnist, format: "onnx", runtime: "ort", settings: { threads: 1, enableCpuMemArena: false } },
      threshold: 100,
    });
    const { comparison } = result;
    expect(result.rounds).toBeGreaterThanOrEqual(4);
    expect(result.rounds).toBeLessThanOrEqual(6);
    expect(comparison.latencyRatio.pairs).toBe(result.rounds);
    expect(comparison.latencyRatio.low).toBeLessThanOrEqual(comparison.latencyRatio.ratio);
    expect(comparison.latencyRatio.high).toBeGreaterThanOrEqual(comparison.latencyRatio.ratio);
    // Nothing makes the same model 100× faster: the interval must miss the threshold entirely.
    expect(comparison.decision).toBe("fail");
    for (const arm of result.arms) {
      expect(arm.blockP50Ms).toHaveLength(result.rounds);
      expect(arm.latency.count).toBeGreaterThanOrEqual(result.rounds * 3);
      expect(arm.memory.referencePeakRssBytes).toBeGreaterThan(0);
      expect(arm.memory.modelBytes).toBe(Math.max(0, arm.memory.peakRssBytes - (arm.memory.referencePeakRssBytes as number)));
      expect(arm.memory.modelBytes as number).toBeLessThan(arm.memory.peakRssBytes);
    }
    expect(result.arms[1]?.settingsApplied).toMatchObject({ enableCpuMemArena: false, threads: 1 });
    expect(result.method).toMatch(/median of per-round ratios/);
  });

  it("compares a GGUF arm by tokens/s and reports a failing arm as a clear error", async () => {
    // No minimum block time: each block times exactly its minimum counts, so the bookkeeping can be checked exactly.
    const result = await measureInterleaved({
      ...quick,
      blockMs: 0,
      minGenerationsPerBlock: 2,
      settleMs: 100,
      shapes: { tokens: [16] },
      memoryReference: false,
      arms: [
        { label: "f16 a", artifactPath: tinyLlamaF16, format: "gguf", runtime: "llama-cpp", settings: { threads: llmTestThreads, contextSize: 64 } },
        { label: "f16 b", artifactPath: tinyLlamaF16, format: "gguf", runtime: "llama-cpp", settings: { threads: llmTestThreads, contextSize: 64 } },
      ],
      comparisons: [{ baseline: 0, candidate: 1 }],
    });
    expect(result.arms[0]?.rateUnit).toBe("tokens");
    expect(result.comparisons[0]?.rateRatio.pairs).toBe(result.rounds);
    // Generation tokens/s is paired in time too: every block times its own token-by-token generations.
    expect(result.comparisons[0]?.generationRatio?.pairs).toBe(result.rounds);
    for (const arm of result.arms) {
      expect(arm.generationTokensPerSec).toBeGreaterThan(0);
      expect(arm.blockGenerationPerSec).toHaveLength(result.rounds);
      // The configured 2 timed generations per block, no more: the settle's and each block's re-warm generations
      // (at least one each) are untimed and not counted.
      expect(arm.generationsTimed).toBe(result.rounds * 2);
      expect(arm.settleGenerations).toBeGreaterThanOrEqual(1);
      expect(arm.latency.count).toBe(result.rounds * 3);
    }
    expect(result.method).toMatch(/timed generations \(≥ 2\) of 32 tokens/);
    expect(result.method).toMatch(/100 ms \(≥ 1\) of untimed generations/);
    // Memory as llama.cpp allocated it: weights (the F16 tensors, ≈ 11.0 MB) + KV cache + compute buffers.
    const memory = result.arms[0]?.memory;
    expect(memory?.runtimeReported?.parts.map((p) => p.name)).toEqual(["weights", "KV cache", "compute buffers"]);
    const parts = new Map(memory?.runtimeReported?.parts.map((p) => [p.name, p.bytes]));
    expect(parts.get("weights")).toBe(11_019_264);
    // 4 layers × 256 cells (llama.cpp pads the 64-token context to 256) × (256 keys + 256 values) × 2 bytes (f16), as it logs it.
    expect(parts.get("KV cache")).toBe(4 * 256 * 512 * 2);
    expect(parts.get("compute buffers")).toBeGreaterThan(0);
    expect(memory?.modelBytes).toBe([...parts.values()].reduce((a, b) => a + b, 0));
    expect(memory?.modelBytesSource).toMatch(/weights \+ KV cache \+ compute buffers/);
    expect(result.stoppedBecause).toMatch(/no threshold/);
    await expect(
      measureSideBySide({
        ...quick,
        memoryReference: false,
        baseline: { label: "mnist", artifactPath: mnist, format: "onnx", runtime: "ort", settings: {} },
        candidate: { label: "missing", artifactPath: join(llmModelsDir, "no-such-model.onnx"), format: "onnx", runtime: "ort", settings: {} },
      }),
    ).rejects.toMatchObject({ code: "FILE_NOT_FOUND", message: /missing/ });
  });
});

describe("side-by-side arms share CPUs", async () => {
  const pinnable = await readPinnableCpus();
  // Without pinning, each long-lived arm stays on the vCPU it last ran on; one vCPU of a VM ran 1.65× slower than
  // the other for minutes, and Silero VAD's int8 candidate read 1.66× "faster" than fp32 at the same thread count.
  it.skipIf(!pinnable)("runs 1-thread arms of a round on one and the same CPU, rotating, and default-threads arms on all", async () => {
    const allowed = formatCpuList(pinnable as number[]);
    const result = await measureInterleaved({
      ...quick,
      memoryReference: false,
      arms: [
        { label: "default threads", artifactPath: mnist, format: "onnx", runtime: "ort", settings: {} },
        { label: "1 thread", artifactPath: mnist, format: "onnx", runtime: "ort", settings: { threads: 1 } },
        { label: "1 thread, no arena", artifactPath: mnist, format: "onnx", runtime: "ort", settings: { threads: 1, enableCpuMemArena: false } },
      ],
      comparisons: [{ baseline: 1, candidate: 2 }],
    });
    const [all, one, other] = result.arms.map((arm) => arm.blockCpus ?? []);
    expect(all).toEqual(Array.from({ length: result.rounds }, () => allowed));
    // Every thread of each child reported the same single CPU as the other 1-thread arm in that round.
    expect(one).toHaveLength(result.rounds);
    expect(other).toEqual(one);
    for (const cpus of one ?? []) expect(parseCpuList(cpus)).toHaveLength(1);
    expect(new Set(one).size).toBe(Math.min(result.rounds, (pinnable as number[]).length));
    expect(result.method).toMatch(/pinned to the same CPUs/);
  });

  it.skipIf(!pinnable)("measures on the CPUs given only, when given: every block of every arm there", async () => {
    const cpu = (pinnable as number[])[1] as number;
    const result = await measureInterleaved({
      ...quick,
      memoryReference: false,
      cpus: [cpu],
      arms: [
        { label: "default threads", artifactPath: mnist, format: "onnx", runtime: "ort", settings: {} },
        { label: "1 thread", artifactPath: mnist, format: "onnx", runtime: "ort", settings: { threads: 1 } },
      ],
      comparisons: [{ baseline: 0, candidate: 1 }],
    });
    for (const arm of result.arms) expect(arm.blockCpus).toEqual(Array.from({ length: result.rounds }, () => String(cpu)));
    expect(result.method).toContain(`rotating over CPUs ${cpu} `);
  });

  it.skipIf(!pinnable)("bench --compare --cpus: the comparison runs on those CPUs too", async () => {
    const cpu = (pinnable as number[])[1] as number;
    const record = await runBenchmark({ models: [mnist, mnist], settings: { threads: 1 }, iterations: 3, warmupIterations: 1, sweepSizes: [], cpus: [cpu], compare: true });
    expect(record.config.cpus).toBe(String(cpu));
    expect(record.sideBySide?.method).toContain(`rotating over CPUs ${cpu} `);
  });

  it.skipIf(!pinnable)("pins a fresh bench child from its start when asked", async () => {
    const cpu = (pinnable as number[])[1] as number;
    const record = await runBenchmark({ models: [mnist], settings: { threads: 1 }, iterations: 3, warmupIterations: 1, sweepSizes: [], cpus: [cpu] });
    const measured = record.results[0]?.measurements[0];
    expect(measured?.status).toBe("ok");
    expect(measured?.status === "ok" ? measured.cpusAllowed : undefined).toEqual([String(cpu)]);
    expect(record.config.cpus).toBe(String(cpu));
  });
});
