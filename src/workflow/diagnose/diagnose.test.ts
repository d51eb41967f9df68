import { describe, expect, it } from "vitest";
import { buildSampleReport } from "../../../test/fixtures/sample-report.js";
import { diagnoseReport } from "./diagnose-report.js";

describe("diagnose", () => {
  it("turns failed gates and measured symptoms into findings with causes and actions", () => {
    const report = buildSampleReport({ passing: false });
    const int4 = report.candidates.find((c) => c.id === "int4");
    if (!int4 || !int4.measurement) throw new Error("fixture changed");
    int4.metrics.latencyCv = 0.25;
    const fp16 = report.candidates.find((c) => c.id === "fp16");
    if (fp16) fp16.metrics.speedup = 0.8;
    int4.runtime.executionProvider = "cuda";
    int4.runtime.threads = 8;
    const diagnosis = diagnoseReport(report, "report.json");
    const rules = diagnosis.findings.map((f) => `${f.rule}@${f.subject}`);
    expect(rules).toContain("gate.speed-up@run");
    expect(rules).toContain("latency.high-cv@int4");
    expect(rules).toContain("ep.fallback@int4");
    expect(rules).toContain("threads.oversubscribed@int4");
    expect(rules).toContain("accuracy.drop@int4");
    expect(rules).toContain("latency.slower-than-baseline@fp16");
    expect(diagnosis.findings[0]?.severity).toBe("error");
    const fallback = diagnosis.findings.find((f) => f.rule === "ep.fallback");
    expect(fallback?.observation).toBe("asked for execution provider cuda, ran on cpu");
    expect(fallback?.actions.length).toBeGreaterThan(0);
    expect(diagnosis.troubleshooting.every((row) => row.framework === "onnxruntime")).toBe(true);
    expect(diagnosis.troubleshooting.length).toBeGreaterThan(0);
  });

  it("an accuracy gate nothing was measured for asks for evaluation data (an LLM: --eval text), not for another quantizer", () => {
    const report = buildSampleReport({ passing: false });
    for (const c of report.candidates) c.runtime = { runtime: "llama-cpp", threads: 1 };
    const judged = report.recommendation.candidateId ?? report.gates.closest?.candidateId;
    const verdict = report.gates.verdicts.find((v) => v.candidateId === judged)!;
    verdict.results = [{ gate: "accuracy-retention", metric: "accuracyRetention", requirement: "accuracyRetention >= 0.95", passed: false, reason: "accuracyRetention was not measured for this candidate" } as (typeof verdict.results)[number]];
    const finding = diagnoseReport(report, "r").findings.find((f) => f.rule === "gate.accuracy-retention")!;
    expect(finding.observation).toContain("measured nothing");
    expect(finding.causes[0]).toContain("no evaluation text was given (--eval FILE.txt)");
    expect(finding.actions[0]).toContain("--eval FILE.txt");
    expect(finding.actions.join(" ")).not.toContain("onnx.quantize.auto");
    // A missed speed-up on llama.cpp is not sent to ONNX passes either.
    verdict.results.push({ gate: "speed-up", metric: "speedup", requirement: "speedup >= 2", passed: false, measured: 1.5 } as (typeof verdict.results)[number]);
    expect(diagnoseReport(report, "r").findings.find((f) => f.rule === "gate.speed-up")!.actions[0]).toContain("smaller llama.cpp type");
    // Measured and missed: the advice is about the candidates' precision again, in llama.cpp's terms.
    verdict.results[0]!.measured = 0.9;
    const missed = diagnoseReport(report, "r").findings.find((f) => f.rule === "gate.accuracy-retention")!;
    expect(missed.actions[0]).toContain("higher-bit type");
    expect(missed.actions.join(" ")).not.toContain("onnx.quantize.auto");
  });

  it("blames a slower candidate's settings, not its pass, when the pass alone held its speed at those settings", () => {
    const report = buildSampleReport({ passing: false });
    const fp16 = report.candidates.find((c) => c.id === "fp16")!;
    fp16.metrics.speedup = 0.68;
    fp16.metrics.passSpeedup = 1.09;
    fp16.runtime.threads = 1;
    const settings = diagnoseReport(report, "r").findings.find((f) => f.rule === "latency.slower-than-baseline")!;
    expect(settings.observation).toBe("onnx.convert.fp16 runs at 0.68× the baseline's speed (slower); the pass alone runs at 1.09× the input model at the same runtime settings, so its settings (1 thread) make it slower, not the pass");
    expect(settings.causes.join(" ")).not.toContain("fp16 arithmetic");
    // The pass a little slower too: the settings cost more, and the finding does not say the pass costs nothing.
    fp16.metrics.passSpeedup = 0.95;
    expect(diagnoseReport(report, "r").findings.find((f) => f.rule === "latency.slower-than-baseline")!.observation).toMatch(/at 0\.95× .*make it slower, more than the pass$/);
    // The pass itself slower at the same settings: the pass's causes again.
    fp16.metrics.passSpeedup = 0.85;
    const pass = diagnoseReport(report, "r").findings.find((f) => f.rule === "latency.slower-than-baseline")!;
    expect(pass.observation).toBe("onnx.convert.fp16 runs at 0.68× the baseline's speed (slower)");
    expect(pass.causes[0]).toContain("fp16 arithmetic");
  });

  it("gives one latency-variation finding for the run when several candidates vary, naming each with its CV", () => {
    const report = buildSampleReport({ passing: false });
    const measured = report.candidates.filter((c) => c.status === "measured");
    measured.forEach((c, i) => (c.metrics.latencyCv = 0.2 + i / 100));
    const findings = diagnoseReport(report, "r").findings.filter((f) => f.rule === "latency.high-cv");
    expect(findings).toHaveLength(1);
    expect(findings[0]!.subject).toBe("run");
    expect(findings[0]!.observation).toContain(`latency varies on ${measured.length} of ${measured.length} candidates: coefficient of variation ${measured[0]!.id} 20.0%, ${measured[1]!.id} 21.0%`);
  });

  it("reports thread counts that make the same candidate slower", () => {
    const report = buildSampleReport({ passing: true });
    const base = report.candidates[0];
    if (!base) throw new Error("fixture changed");
    const oneThread = structuredClone(base);
    oneThread.id = "fp32-1t";
    oneThread.isBaseline = false;
    oneThread.runtime.threads = 1;
    oneThread.metrics.p50LatencyMs = (base.metrics.p50LatencyMs ?? 0) * 0.7;
    oneThread.metrics.speedup = 1.4;
    report.candidates.push(oneThread);
    const finding = diagnoseReport(report, "r").findings.find((f) => f.rule === "threads.slower-with-more");
    expect(finding?.subject).toBe("fp32");
    // On the side-by-side speed-ups (each against the reference in its own window), not on absolute p50s.
    expect(finding?.observation).toBe("2 threads (fp32): 1.00× the baseline's speed; 1 thread (fp32-1t): 1.40× (1.4× faster)");
    expect(finding?.actions[0]).toBe("use 1 thread for this model");
    // Absolute p50s from different windows, only where a speed-up is missing, and labelled so.
    delete oneThread.metrics.speedup;
    expect(diagnoseReport(report, "r").findings.find((f) => f.rule === "threads.slower-with-more")?.observation).toMatch(/^2 threads \(fp32\): p50 .*; 1 thread \(fp32-1t\): .* \(absolute, from different windows\)$/);
    // The same 1-thread advantage in two pairs: one finding for the run, naming both.
    oneThread.metrics.speedup = 1.4;
    const other = structuredClone(oneThread);
    Object.assign(other, { id: "int8-1t", label: "onnx.quantize.int8-dynamic" });
    other.metrics.speedup = 2.6;
    const int8 = report.candidates.find((c) => c.id === "int8-dynamic")!;
    other.passes = structuredClone(int8.passes);
    report.candidates.push(other);
    const grouped = diagnoseReport(report, "r").findings.filter((f) => f.rule === "threads.slower-with-more");
    expect(grouped).toHaveLength(1);
    expect(grouped[0]!.subject).toBe("run");
    expect(grouped[0]!.observation).toMatch(/^more threads measured slower in 2 pairs: 2 threads \(fp32\): .*; 2 threads \(int8-dynamic\): .* 1 thread \(int8-1t\): 2\.60×/);
  });

  it("compares llama.cpp thread counts on generated tokens/s, and only candidates that differ in nothing but threads", () => {
    const report = buildSampleReport({ passing: true });
    const base = report.candidates[0];
    if (!base) throw new Error("fixture changed");
    const gguf = (id: string, threads: number, tokensPerSec: number, method: string) => {
      const c = structuredClone(base);
      Object.assign(c, { id, isBaseline: false, label: `gguf.quantize on llama-cpp, ${threads} thread${threads === 1 ? "" : "s"}` });
      c.runtime = { runtime: "llama-cpp", threads };
      c.passes = [{ ...(base.passes[0] ?? { passVersion: "1", cacheKey: "k", cacheHit: false }), passId: "gguf.quantize", options: { method } } as (typeof c.passes)[number]];
      // Prompt runs' p50 says nothing about decoding: equal here, so only tokens/s can show the slowdown.
      c.metrics = { ...c.metrics, tokensPerSec, speedup: tokensPerSec / 100, p50LatencyMs: 20 };
      return c;
    };
    report.candidates = [base, gguf("q4_0-2t", 2, 101, "Q4_0"), gguf("q4_0-1t", 1, 2448, "Q4_0"), gguf("q8_0-1t", 1, 3000, "Q8_0")];
    const findings = diagnoseReport(report, "r").findings.filter((f) => f.rule === "threads.slower-with-more");
    // Against q4_0-1t only: q8_0-1t is another type, not the same candidate at fewer threads.
    expect(findings.map((f) => f.observation)).toEqual(["2 threads (q4_0-2t): 1.01× the baseline's speed; 1 thread (q4_0-1t): 24.48× (24.2× faster)"]);
    expect(findings[0]?.causes.join(" ")).toContain("for every decoded token");
    expect(findings[0]?.actions[0]).toBe("use 1 thread for this model");
  });

  it("warns once when the speed-up's reference's median moved between the run's windows, naming llama.cpp's thread per token", () => {
    const report = buildSampleReport({ passing: true });
    const base = report.candidates[0];
    if (!base) throw new Error("fixture changed");
    base.runtime = { runtime: "llama-cpp", threads: 2 };
    const gguf = (id: string, min: number, median: number, max: number) => {
      const c = structuredClone(base);
      Object.assign(c, { id, isBaseline: false, label: `${id} on llama-cpp, 1 thread` });
      c.runtime = { runtime: "llama-cpp", threads: 1 };
      c.sideBySide = { ...(c.sideBySide ?? { method: "m", rounds: 6, stoppedBecause: "s", load: { cores: 2, freeCores: 2, oversubscribed: false }, ratios: [], memory: { peakRssBytes: 1 } }), baselineBlocks: { metric: "generated tokens/s", min, median, max, blocks: 6 } };
      return c;
    };
    report.candidates = [base, gguf("q6_k-1t", 73.6, 95, 105.4), gguf("q4_k_m-1t", 68.5, 78, 89)];
    const findings = diagnoseReport(report, "r").findings.filter((f) => f.rule === "speed.unsteady-baseline");
    expect(findings).toHaveLength(1);
    expect(findings[0]?.subject).toBe("run");
    expect(findings[0]?.observation).toContain("moved 1.22× between the run's 2 measuring windows (window medians 78–95 generated tokens/s; single blocks 69–105)");
    expect(findings[0]?.causes.join(" ")).toContain("for every decoded token");
    expect(findings[0]?.actions.join(" ")).toContain("--threads 1");
    // Blocks far apart, medians close: the interval of each window has the scatter already.
    report.candidates = [base, gguf("q6_k-1t", 60, 90, 150), gguf("q4_k_m-1t", 70, 85, 100)];
    expect(diagnoseReport(report, "r").findings.filter((f) => f.rule === "speed.unsteady-baseline")).toEqual([]);
  });

  it("finds nothing alarming in a clean passing run", () => {
    const report = buildSampleReport({ passing: true });
    report.candidates = report.candidates.filter((c) => c.id === "fp32" || c.id === "int8-dynamic");
    const diagnosis = diagnoseReport(report, "r");
    expect(diagnosis.findings.filter((f) => f.severity !== "info")).toEqual([]);
  });
});

describe("diagnose: a missed memory gate", () => {
  it("says how much of the model's memory its weights are, and what the memory-saving settings gave when measured", () => {
    const report = buildSampleReport({ passing: false });
    const [fp32, , int8] = report.candidates;
    if (!fp32 || !int8) throw new Error("fixture changed");
    // PaddleOCR rec as the demo measured it: a 10.3 MiB file, 65.5 MiB of model memory.
    fp32.metrics.modelMemoryBytes = 65.5 * 2 ** 20;
    fp32.metrics.sizeBytes = 10.3 * 2 ** 20;
    const closest = report.gates.closest?.candidateId;
    const verdict = report.gates.verdicts.find((v) => v.candidateId === closest);
    if (!verdict) throw new Error("fixture changed");
    verdict.results = [{ gate: "memory-reduction", metric: "memoryReduction", passed: false, requirement: "memoryReduction >= 0.5", measured: 0.2099434065599708 } as (typeof verdict.results)[number]];
    const gateFinding = () => diagnoseReport(report, "r").findings.find((f) => f.rule === "gate.memory-reduction");
    expect(gateFinding()?.causes.join("\n")).toContain("are 16 % of its model memory (65.5 MiB)");
    // The measured value as the report prints it, not 0.2099434065599708.
    expect(gateFinding()?.observation).toMatch(/; measured 0\.2099$/);
    expect(gateFinding()?.actions.join("\n")).toContain("leave out --no-memory-settings");
    int8.runtime.enableCpuMemArena = false;
    expect(gateFinding()?.causes.join("\n")).toContain(`memory-saving settings were measured too: their best memoryReduction was 0.550 (${int8.id})`);
    expect(gateFinding()?.actions.join("\n")).not.toContain("--no-memory-settings");
    // Weights that are most of the memory: no such cause.
    fp32.metrics.sizeBytes = 60 * 2 ** 20;
    expect(gateFinding()?.causes.join("\n")).not.toContain("of its model memory");
  });
});
