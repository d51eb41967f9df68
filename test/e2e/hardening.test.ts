import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildSampleReport } from "../fixtures/sample-report.js";
import { writeHeadCountZeroGguf } from "../fixtures/degenerate-models.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { cliPath, runCli } from "../fixtures/run-cli.js";

/** Each row of issue 14's table, reproduced against the built CLI. */
const temp = useTempDir("hardening-");
const cls = realOnnxModels.cls;
const unwritable = "/sys/edgeforge-out";

function expectError(result: { code: number; stderr: string }, code: string, exit: number): void {
  expect(result.stderr, result.stderr).toContain(`error[${code}]`);
  expect(result.stderr).toMatch(/\n {2}hint: \S/);
  expect(result.code).toBe(exit);
}

describe("native aborts come back as typed errors", () => {
  it("eval on a GGUF whose head_count is 0: RUNTIME_FAILED with llama.cpp's assert, not exit 134", async () => {
    const model = await writeHeadCountZeroGguf(temp.join("head-count-0.gguf"));
    const result = await runCli(["eval", model, "--text", sharedModels.heldoutText, "--max-chunks", "1"]);
    expectError(result, "RUNTIME_FAILED", 1);
    expect(result.stderr).toContain("GGML_ASSERT");
  });
});

describe("outputs: writable before any work, locked, and no temp files left by a killed run", () => {
  it("optimize -o under /sys: FILE_WRITE_FAILED about the output folder, not INTERNAL", async () => {
    const result = await runCli(["optimize", cls, "-o", `${unwritable}/optout`, "--budget", "2"]);
    expectError(result, "FILE_WRITE_FAILED", 1);
    expect(result.stderr).toContain("output folder");
  });

  it("GGUF and ONNX quantize into an unwritable folder: FILE_WRITE_FAILED with a hint about the output", async () => {
    for (const [model, method] of [[sharedModels.tinyLlamaF16, "Q4_0"], [cls, "int8-dynamic"]] as const) {
      const result = await runCli(["quantize", model, "--method", method, "-o", `${unwritable}/out`]);
      expectError(result, "FILE_WRITE_FAILED", 1);
      expect(result.stderr).toContain("choose an output folder you can write to");
      expect(result.stderr).not.toContain("basic_ios");
    }
  });

  it("a second optimize into a folder another live run holds: OUTPUT_LOCKED; the holder's lock stays", async () => {
    const output = temp.join("locked");
    await mkdir(output, { recursive: true });
    // This test process is alive: its lock stands for "another run is writing here".
    await writeFile(`${output}/.edgeforge.lock`, JSON.stringify({ pid: process.pid, command: "optimize", startedAt: "now" }));
    const locked = await runCli(["optimize", cls, "-o", output, "--budget", "1"]);
    expectError(locked, "OUTPUT_LOCKED", 1);
    expect(locked.stderr).toContain(`process ${process.pid}`);
    expect(JSON.parse(await readFile(`${output}/.edgeforge.lock`, "utf8")).pid).toBe(process.pid);
  });

  for (const signal of ["SIGKILL", "SIGTERM", "SIGINT"] as const) {
    it(`${signal} during a GGUF quantize: the child dies with the parent and the next start sweeps the temp file`, async () => {
      const folder = temp.join(`killed-${signal}`);
      const output = `${folder}/out.gguf`;
      await mkdir(folder, { recursive: true });
      const parent = spawn(process.execPath, [cliPath, "quantize", sharedModels.tinyLlamaF16, "--method", "Q4_K_M", "--threads", "1", "-o", output], { stdio: "ignore" });
      const exited = new Promise((resolve) => parent.once("exit", resolve));
      const tempName = await waitFor(async () => (await readdir(folder)).find((name) => name.startsWith(".out.gguf.")), 60_000);
      const child = await waitFor(() => childOf(parent.pid as number), 10_000);
      parent.kill(signal);
      await exited;
      expect(tempName).toMatch(new RegExp(`^\\.out\\.gguf\\.${parent.pid}-[0-9a-f]{12}\\.tmp$`));
      await waitFor(async () => ((await isRunning(child)) ? undefined : true), 20_000);
      const again = await runCli(["quantize", sharedModels.tinyLlamaF16, "--method", "Q4_0", "--threads", "1", "-o", `${folder}/again.gguf`]);
      expect(again.code, again.stderr).toBe(0);
      expect((await readdir(folder)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    });
  }
});

async function waitFor<T>(probe: () => Promise<T | undefined>, limitMs: number): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The child process of `pid` (Linux /proc), if it has one. */
async function childOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const first = text.trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** Alive and not a zombie (an orphan whose exit nobody has collected yet counts as dead). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

describe("every flag and config value validated before work, each error with a hint", () => {
  it("--budget banana / 10q / -5 / 0: usage errors with a hint", async () => {
    for (const budget of ["banana", "10q", "-5", "0"]) {
      const result = await runCli(["optimize", cls, "-o", temp.join("budget"), "--budget", budget]);
      expectError(result, "USAGE", 2);
      expect(result.stderr).toContain(`budget "${budget}"`);
    }
  });

  it("--pass foo.bar, --gguf-types Q9_9, a bad --pass-option value or name: refused before any work", async () => {
    const run = (flags: string[]) => runCli(["optimize", cls, "-o", temp.join("flags"), "--dry-run", ...flags]);
    const pass = await run(["--pass", "foo.bar"]);
    expectError(pass, "INVALID_OPTION", 2);
    expect(pass.stderr).toContain('no pass is called "foo.bar"');
    const types = await run(["--gguf-types", "Q9_9"]);
    expectError(types, "INVALID_OPTION", 2);
    expect(types.stderr).toContain("Q4_K_M");
    const value = await run(["--pass-option", "onnx.quantize.int4:blockSize=7"]);
    expectError(value, "INVALID_OPTION", 2);
    expect(value.stderr).toContain("blockSize must be one of 16, 32, 64, 128 (got 7)");
    const name = await run(["--pass-option", "onnx.quantize.int4:blokSize=64"]);
    expectError(name, "INVALID_OPTION", 2);
    expect(name.stderr).toContain("no option blokSize");
  });

  it("quantize --block-size 7 says which sizes exist", async () => {
    const result = await runCli(["quantize", cls, "--method", "int4", "--block-size", "7", "-o", temp.join("b7.onnx")]);
    expectError(result, "INVALID_OPTION", 2);
    expect(result.stderr).toContain("blockSize must be one of 16, 32, 64, 128 (got 7)");
  });

  it("an absurd --shape is refused with the size limit", async () => {
    const result = await runCli(["optimize", cls, "-o", temp.join("shape"), "--dry-run", "--shape", "x=99999999x3x48x99999999"]);
    expectError(result, "INVALID_SHAPE", 2);
    expect(result.stderr).toContain("2^31");
    expect(result.stderr).not.toContain("TiB");
  });

  it("usage errors carry a hint naming the command's --help", async () => {
    for (const args of [["optimize", cls, "--no-such-flag"], ["quantize", cls], ["bench"]]) {
      const result = await runCli(args);
      expectError(result, "USAGE", 2);
      expect(result.stderr).toContain(`edgeforge ${args[0]} --help`);
    }
    // Nested commands: printed once (not commander's own line too), naming the nested command's --help.
    const nested: [string[], string][] = [
      [["registry", "alias", "set", "m", "production", "1"], "registry alias set"],
      [["rollout", "start", "m"], "rollout start"],
    ];
    for (const [args, command] of nested) {
      const result = await runCli(args);
      expectError(result, "USAGE", 2);
      expect(result.stderr).not.toMatch(/^error: /m);
      expect(result.stderr.match(/error\[USAGE\]/g)).toHaveLength(1);
      expect(result.stderr).toContain(`edgeforge ${command} --help`);
    }
  });
});

describe("degenerate and unsupported models say what they are", () => {
  it("a vocabulary-only GGUF: inspect says so (no run estimate); quantize, bench and eval refuse with NOTHING_TO_DO", async () => {
    const vocab = sharedModels.vocabOnlyLlamaGguf;
    const inspect = await runCli(["inspect", vocab]);
    expect(inspect.code).toBe(0);
    expect(inspect.stderr).toContain("vocabulary only: a tokenizer of 32,000 tokens and no weight tensors");
    expect(inspect.stderr).not.toContain("memory to run");
    for (const args of [["quantize", vocab, "--method", "Q4_0", "-o", temp.join("vocab-q4.gguf")], ["bench", vocab], ["eval", vocab, "--text", sharedModels.heldoutText]]) {
      const result = await runCli(args);
      expectError(result, "NOTHING_TO_DO", 1);
      expect(result.stderr).toContain("vocabulary-only GGUF");
    }
    expect(await readdir(temp.path)).not.toContain("vocab-q4.gguf");
  });

  it("a custom-op ONNX: names the op and its domain, with a hint about that domain", async () => {
    const result = await runCli(["eval", sharedModels.contribOpsOnnx, "--task", "fidelity", "--baseline", sharedModels.contribOpsOnnx]);
    expectError(result, "UNSUPPORTED_OP", 1);
    expect(result.stderr).toContain("SuperResolutionPreProcess from domain ai.onnx.contrib");
    expect(result.stderr).toContain("onnxruntime-extensions");
  });

  it("eval and bench of a checkpoint no runtime runs (llama2.c): UNSUPPORTED_FEATURE with the convert command, before any read", async () => {
    const evaluated = await runCli(["eval", sharedModels.stories260kLlama2c, "--text", sharedModels.heldoutText]);
    expectError(evaluated, "UNSUPPORTED_FEATURE", 1);
    expect(evaluated.stderr).toContain("no runtime runs llama2c models");
    expect(evaluated.stderr).toContain("hint: convert it first (`edgeforge convert MODEL --to gguf`)");
    const benched = await runCli(["bench", sharedModels.stories260kLlama2c, "--iterations", "1"]);
    expect(benched.stderr).toContain("hint: convert it first (`edgeforge convert MODEL --to gguf`)");
  });

  it("convert of a file it cannot read lists the conversions that exist (from the catalog, llama2.c included)", async () => {
    const result = await runCli(["convert", cls, "--to", "gguf", "-o", temp.join("x.gguf")]);
    expectError(result, "UNKNOWN_FORMAT", 1);
    expect(result.stderr).toContain("is an ONNX file, which convert --to gguf does not read");
    expect(result.stderr).toMatch(/hint: convert supports: .*--to gguf from a Hugging Face .*--to gguf from a llama2\.c checkpoint/);
  });
});

describe("human output rounds", () => {
  it("diagnose on a report whose figures carry 16 digits prints none of them raw", async () => {
    const noisy = JSON.stringify(buildSampleReport({ passing: false })).replace(/(?<=[:,[]\s*)(\d+\.\d+)(?=[,\]}])/g, (raw) => String(Number(raw) * 1.000000123456789));
    expect(noisy).toMatch(/\d\.\d{9,}/);
    const path = temp.join("noisy-report.json");
    await writeFile(path, noisy);
    const result = await runCli(["diagnose", path]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/\d\.\d{5,}/);
  });
});
