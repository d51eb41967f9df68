import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "../fixtures/run-cli.js";
import { buildCentroidClassifier, classifierModelBytes, loadMnistSplit, writeMnistImageFolder } from "../fixtures/mnist-classifier.js";
import { writeHeadCountZeroGguf } from "../fixtures/degenerate-models.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";



const quick = ["--iterations", "3", "--warmup", "1", "--threads", "1", "--sweep", "none"];

const temp = useTempDir("cli-bench-");

describe("edgeforge bench (built CLI)", () => {
  it("--json prints the versioned record on stdout and the table goes nowhere else", async () => {
    const result = await runCli(["bench", realOnnxModels.cls, "--shape", "x=1x3x48x192", ...quick, "--json"]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record).toMatchObject({ schemaVersion: 1, kind: "edgeforge.bench" });
    expect(record.results[0].measurements[0]).toMatchObject({ status: "ok", latency: { count: 3 } });
  });

  it("--no-mem-arena --no-mem-pattern runs the session as optimize's -noarena candidates and records it", async () => {
    const result = await runCli(["bench", realOnnxModels.cls, "--shape", "x=1x3x48x192", ...quick, "--no-mem-arena", "--no-mem-pattern", "--json"]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record.results[0].measurements[0].session.settings).toMatchObject({ enableCpuMemArena: false, enableMemPattern: false });
  });

  it("exits 4 when one child crashes (a real model llama.cpp aborts on), still measuring the other, and renders CSV rows for both", async () => {
    const crashing = await writeHeadCountZeroGguf(temp.join("crash-me.gguf"));
    const output = temp.join("out.csv");
    const result = await runCli(["bench", realOnnxModels.cls, crashing, "--shape", "x=1x3x48x192", ...quick, "--format", "csv", "--output", output]);
    expect(result.code).toBe(4);
    const rows = result.stdout.trimEnd().split("\n");
    expect(rows).toHaveLength(3);
    const header = (rows[0] as string).split(",");
    const statusOf = (label: string) => rows.find((row) => row.includes(label))?.split(",")[header.indexOf("status")];
    expect(statusOf("ch_ppocr_mobile_v2.0_cls_infer.onnx")).toBe("ok");
    expect(statusOf("crash-me.gguf")).toBe("failed");
    expect(await readFile(output, "utf8")).toBe(result.stdout);
    expect(result.stderr).toContain("some measurements failed");
  });

  it("renders the Markdown table on stderr by default", async () => {
    const result = await runCli(["bench", realOnnxModels.vad, "--shape", "sequence=512", ...quick]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("| model |");
    expect(result.stderr).toContain("silero_vad.onnx");
  });

  it("--cpus pins every measuring process to the CPUs given, records them, and refuses CPUs this process may not use", async () => {
    const pinned = await runCli(["bench", realOnnxModels.cls, "--shape", "x=1x3x48x192", ...quick, "--cpus", "0", "--json"]);
    expect(pinned.code).toBe(0);
    const record = JSON.parse(pinned.stdout);
    expect(record.config.cpus).toBe("0");
    // Read by the child from its own threads after timing: every one of them was on CPU 0.
    expect(record.results[0].measurements[0].cpusAllowed).toEqual(["0"]);
    const absent = await runCli(["bench", realOnnxModels.cls, "--shape", "x=1x3x48x192", ...quick, "--cpus", "4095"]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain("error[INVALID_OPTION]");
    expect(absent.stderr).toMatch(/CPU 4095 is not available to this process \(allowed: [0-9,-]+\)/);
    expect((await runCli(["bench", realOnnxModels.cls, "--cpus", "zero"])).code).toBe(2);
    const table = await runCli(["bench", realOnnxModels.cls, "--shape", "x=1x3x48x192", ...quick, "--cpus", "0"]);
    expect(table.stderr).toContain("pinned to CPUs 0");
  });

  it("maps bad input to exit codes: usage 2 for flags, 1 for an unavailable runtime or when everything failed", async () => {
    expect((await runCli(["bench", realOnnxModels.cls, "--iterations", "0"])).code).toBe(2);
    expect((await runCli(["bench", realOnnxModels.cls, "--iterations", "3", "--min-time-ms", "10"])).code).toBe(2);
    const openvino = await runCli(["bench", realOnnxModels.cls, "--runtime", "openvino", ...quick]);
    expect(openvino.code).toBe(1);
    expect(openvino.stderr).toContain("error[RUNTIME_UNAVAILABLE]");
    const badValues = temp.join("values.json");
    await writeFile(badValues, JSON.stringify({ sr: { uniform: [0] } }));
    const values = await runCli(["bench", realOnnxModels.vad, "--input-values", badValues, ...quick]);
    expect(values.code).toBe(1);
    expect(values.stderr).toContain("error[INVALID_CONFIG]");
    const missingShape = await runCli(["bench", realOnnxModels.rec, ...quick]);
    expect(missingShape.code).toBe(1);
    expect(missingShape.stderr).toContain("INVALID_SHAPE");
  });
});

describe("edgeforge eval (built CLI)", () => {
  it("evaluates a classifier on an image folder and prints the record with --json", async () => {
    const split = loadMnistSplit(100, 5);
    const modelPath = temp.join("mnist.onnx");
    await writeFile(modelPath, classifierModelBytes(buildCentroidClassifier(split.train)));
    const data = temp.join("digits");
    await writeMnistImageFolder(data, split.test);
    const result = await runCli(["eval", modelPath, "--data", data, "--json"]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record).toMatchObject({ schemaVersion: 1, kind: "edgeforge.eval", task: "classification", data: { samples: 50 } });
    expect(record.metrics.find((m: { name: string }) => m.name === "top1Accuracy").value).toBeGreaterThan(0.5);
    const human = await runCli(["eval", modelPath, "--baseline", modelPath, "--task", "fidelity", "--samples", "2"]);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain("cosineSimilarity");
    const noTask = await runCli(["eval", modelPath]);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain("error[INVALID_OPTION]");
  });

  it("fidelity on a model with one value per sample (Silero VAD's speech probability): cosine across samples, no top-1 row", async () => {
    const result = await runCli(["eval", realOnnxModels.vad, "--baseline", realOnnxModels.vad, "--task", "fidelity", "--samples", "4", "--shape", "input=1x512", "--shape", "batch=1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const metrics = (JSON.parse(result.stdout) as { metrics: { name: string; value: number; description?: string }[] }).metrics;
    const cosine = metrics.find((m) => m.name === "cosineSimilarity");
    expect(cosine?.description).toBe('cosine of "output" across samples (one value per sample, whose own cosine is only its sign)');
    expect(cosine?.value).toBeCloseTo(1, 12);
    // An argmax over one value always agrees: reporting it would claim agreement nothing measured.
    expect(metrics.map((m) => m.name)).not.toContain("top1Agreement");
  });
});
