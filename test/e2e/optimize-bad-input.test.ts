import { execFile } from "node:child_process";
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Gate } from "../../src/gates/gate.js";
import type { Report } from "../../src/reports/report.js";
import { suggestOptimizeCommand } from "../../src/workflow/suggest-command.js";
import type { WorkflowConfig } from "../../src/workflow/workflow-config.js";
import { tinyLlamaF16 } from "../fixtures/llm-models.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { cliPath, runCli } from "../fixtures/run-cli.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const quick = ["--shape", "x=1x3x48x192", "--threads", "1", "--graph-opt", "all", "--runs", "3", "--warmup", "1"];

const temp = useTempDir("optimize-bad-");

describe("edgeforge optimize: bad input gives clear errors or a clear verdict", () => {
  it("a gates file with an unknown metric: INVALID_CONFIG naming the known metrics, before anything runs", async () => {
    const gates = temp.join("gates.yaml");
    await writeFile(gates, "schemaVersion: 1\ngates:\n  - { metric: latency, goal: threshold, value: 20 }\n");
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", temp.join("a"), "--gates", gates, ...quick]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error[INVALID_CONFIG]: unknown metric "latency"');
    expect(result.stderr).toMatch(/hint: known metrics: .*p95LatencyMs.*accuracyRetention/);
  });

  it("a dynamic dimension without --shape stops before any work with the --shape to add, and leaves no output folder", async () => {
    const output = temp.join("no-shape");
    const result = await runCli(["optimize", realOnnxModels.rec, "-o", output]);
    // A shape problem is a usage error (exit 2), like a bad flag.
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[INVALID_SHAPE]: input "x" has a dynamic dimension');
    expect(result.stderr).toContain("hint: fix it with --shape x=1x3x48xD");
    await expect(access(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("JSON records given as an LLM's evaluation text: DATASET_INVALID before any work, no output folder", async () => {
    const output = temp.join("llm-json");
    const records = temp.join("records.jsonl");
    await writeFile(records, '{"input": [1, 2], "label": 0}\n');
    const result = await runCli(["optimize", tinyLlamaF16, "-o", output, "--eval", records]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[DATASET_INVALID]");
    expect(result.stderr).toContain("hint: pass a .txt file of held-out text");
    await expect(access(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a custom operator plain onnxruntime lacks: UNSUPPORTED_OP with the export hint, not a measurement failure", async () => {
    const result = await runCli(["optimize", sharedModels.contribOpsOnnx, "-o", temp.join("custom-op"), "--threads", "1", "--runs", "3", "--warmup", "1"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[UNSUPPORTED_OP]: the input model could not be measured");
    expect(result.stderr).toContain("uses the custom operator SuperResolutionPreProcess from domain ai.onnx.contrib");
    expect(result.stderr).toContain("hint: ai.onnx.contrib ops come from onnxruntime-extensions");
  });

  it("contradictory constraints: INVALID_CONFIG naming both bounds", async () => {
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", temp.join("b"), "--constraint", "p95LatencyMs <= 10", "--constraint", "p95LatencyMs >= 20", ...quick]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[INVALID_CONFIG]: contradictory constraints");
    expect(result.stderr).toContain('"p95LatencyMs >= 20" and "p95LatencyMs <= 10"');
  });

  it("contradictory gates in a file: INVALID_CONFIG", async () => {
    const gates = temp.join("gates-contradictory.yaml");
    await writeFile(gates, "schemaVersion: 1\ngates:\n  - { metric: sizeBytes, op: '<=', value: 1MB }\n  - { metric: sizeBytes, op: '>=', value: 2MB }\n");
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", temp.join("c"), "--gates", gates, ...quick]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("contradictory");
  });

  it("an unknown target: UNKNOWN_TARGET with the list of profiles", async () => {
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", temp.join("d"), "--target", "toaster", ...quick]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[UNKNOWN_TARGET]");
    expect(result.stderr).toContain("raspberry-pi-5-8gb");
  });

  it("a target nothing fits: exit 3, no recommendation, the closest candidate and the memory budget it missed", async () => {
    const output = temp.join("e");
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", output, "--memory-budget", "64KB", "--pass", "onnx.quantize.int8-dynamic", "--budget", "2", ...quick], { timeoutMs: 180_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("No candidate passed the quality gates.");
    const report = JSON.parse(await readFile(join(output, "report.json"), "utf8")) as Report;
    expect(report.verdict).toBe("no-candidate-passed");
    expect(report.recommendation.candidateId).toBeNull();
    expect(report.outputs.recommendedArtifact).toBeUndefined();
    const missed = report.gates.closest?.missed.map((m) => m.gate) ?? [];
    expect(missed.some((gate) => gate.includes("memory budget"))).toBe(true);
    const junit = await readFile(join(output, "junit.xml"), "utf8");
    expect(junit).toContain("<failure");
  }, 180_000);

  it("--dry-run prints the resolved workflow config and the plan, and runs nothing", async () => {
    const output = temp.join("dry");
    const result = await runCli(["optimize", realOnnxModels.cls, "-o", output, "--dry-run", "--json", "--budget", "5", "--constraint", "p95LatencyMs <= 20", ...quick]);
    expect(result.code).toBe(0);
    const { config, plan } = JSON.parse(result.stdout);
    expect(config).toMatchObject({ schemaVersion: 1, search: { maxCandidates: 5 }, constraints: ["p95LatencyMs <= 20"], measurement: { runs: 3 } });
    expect(plan.baseline.id).toBe("fp32-1t-all");
    expect(plan.candidates.length).toBeGreaterThan(0);
    await expect(readFile(join(output, "report.json"))).rejects.toThrow();
    const yaml = await runCli(["optimize", realOnnxModels.cls, "-o", output, "--dry-run", ...quick]);
    expect(yaml.stdout).toMatch(/^schemaVersion: 1\n/);
  });

  it("the command a report suggests reproduces the run's config (search, candidates, measurement, cache) and memory budget with its own gates", async () => {
    const output = temp.join("suggest");
    const flags = ["--budget", "5", "--budget", "90s", "--strategy", "random", "--seed", "7", "--stop-when-goals-met", "--no-memory-settings", "--pass", "onnx.quantize.int4", "--pass-option", "onnx.quantize.int4:blockSize=64", "--pass-option", "onnx.quantize.int4:method=hqq", "--objective", "p50LatencyMs:min:2", "--constraint", "p95LatencyMs <= 20", "--cache-dir", temp.join("a cache"), "--memory-budget", "300MB", ...quick];
    const original = await runCli(["optimize", realOnnxModels.cls, "-o", output, "--dry-run", "--json", ...flags]);
    expect(original.code, original.stderr).toBe(0);
    const { config, plan } = JSON.parse(original.stdout) as { config: WorkflowConfig; plan: { gates: Gate[] } };
    const budgetGate = (gates: Gate[]) => gates.find((g) => g.metric === "estimatedRunBytes");
    // The override is not in the config: the report hands it over from the run's environment.
    const memoryBudgetBytes = budgetGate(plan.gates)!.value;
    expect(memoryBudgetBytes).toBe(300_000_000);
    const gates = [{ name: "speed", metric: "speedup", goal: "threshold", op: ">=", value: 1.5, priority: 1 }] as Gate[];
    const command = suggestOptimizeCommand(config, gates, { memoryBudgetBytes });
    // Through a shell, as a user pastes it: the quoting holds.
    const shell = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile("bash", ["-c", `${command.replace(/^edgeforge /, `"${process.execPath}" "${cliPath}" `)} --dry-run --json`], { encoding: "utf8", maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(shell.code, shell.stderr).toBe(0);
    const suggested = JSON.parse(shell.stdout).config as WorkflowConfig;
    expect(budgetGate(JSON.parse(shell.stdout).plan.gates as Gate[])?.value).toBe(memoryBudgetBytes);
    expect(suggested.output).toBe(`${config.output}-relaxed`);
    expect(suggested.gates).toEqual({ useDefaults: false, list: [{ name: "speedup", metric: "speedup", goal: "threshold", op: ">=", value: 1.5, priority: 1 }] });
    expect({ ...suggested, output: config.output, gates: config.gates }).toEqual(config);
  });

  it("a missing model and a missing output folder are typed errors", async () => {
    const missing = await runCli(["optimize", temp.join("nope.onnx"), "-o", temp.join("f")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error[FILE_NOT_FOUND]");
    const noOutput = await runCli(["optimize", realOnnxModels.cls]);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toContain("no output folder");
  });
});
