import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/run-cli.js";
import { readGgufAsHf, writeGgufAsHfFolder } from "../../src/passes/hf/export-gguf-as-hf.js";
import { heldoutText, llamaCppReference, tinyLlamaF16 } from "../fixtures/llm-models.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";



let dir: string;
let hfFolder: string;

beforeAll(async () => {
  dir = await makeTempDir("cli-llm-");
  hfFolder = join(dir, "tiny-hf");
  await writeGgufAsHfFolder(await readGgufAsHf(tinyLlamaF16), hfFolder);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("edgeforge quantize / convert on GGUF and Hugging Face models (built CLI)", () => {
  it("quantize MODEL.gguf --method Q4_K_M -o OUT writes llama-quantize's file, --json describes it", async () => {
    const out = join(dir, "q4km.gguf");
    const result = await runCli(["quantize", tinyLlamaF16, "--method", "Q4_K_M", "-o", out, "--threads", "2", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const record = JSON.parse(result.stdout) as { output: { path: string; sizeBytes: number; format: string } };
    expect(record.output).toMatchObject({ format: "gguf", sizeBytes: llamaCppReference.sizesBytes.Q4_K_M });
    expect(result.stderr).toContain("quantize");
  });

  it("convert HF_DIR --to gguf --outtype f16, then --to mlx --bits 4 --group-size 64", async () => {
    const gguf = join(dir, "converted.gguf");
    const toGguf = await runCli(["convert", hfFolder, "--to", "gguf", "--outtype", "f16", "-o", gguf]);
    expect(toGguf.code, toGguf.stderr).toBe(0);
    expect(toGguf.stderr).toContain("GGUF F16: wrote");
    expect((await readFile(gguf)).length).toBe((await readFile(tinyLlamaF16)).length + 64);
    const mlx = join(dir, "mlx");
    const toMlx = await runCli(["convert", hfFolder, "--to", "mlx", "--bits", "4", "--group-size", "64", "-o", mlx, "--json"]);
    expect(toMlx.code, toMlx.stderr).toBe(0);
    expect(JSON.parse(toMlx.stdout)).toMatchObject({ to: "mlx", output: { format: "mlx" }, log: { counts: { quantizedTensors: 30 } } });
    expect(JSON.parse(await readFile(join(mlx, "config.json"), "utf8")).quantization).toEqual({ group_size: 64, bits: 4, mode: "affine" });
  });

  it("eval MODEL.gguf --data TEXT --baseline BASE.gguf reports perplexity, KL and top-1 agreement", async () => {
    const q4 = join(dir, "q4km.gguf");
    const result = await runCli(["eval", q4, "--data", heldoutText, "--baseline", tinyLlamaF16, "--ctx", "128", "--max-chunks", "3", "--threads", "1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const text = result.stdout;
    for (const metric of ["perplexity", "klDivergence", "top1Agreement", "tokensPerSec"]) expect(text).toContain(`"${metric}"`);
  });

  it("optimize --dry-run on a GGUF that records no general.file_type (stories260K) names it by the type of most parameters, F32", async () => {
    const result = await runCli(["optimize", sharedModels.stories260kGguf, "-o", join(dir, "stories"), "--gguf-types", "F32,Q8_0", "--threads", "1", "--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { plan } = JSON.parse(result.stdout) as { plan: { baseline: { id: string }; candidates: { id: string }[]; skipped: { label: string; reason: string }[] } };
    expect(plan.baseline.id).toBe("f32-1t");
    expect(plan.skipped).toContainEqual({ label: "gguf.quantize F32", reason: "the input is already this type" });
    expect(plan.candidates.map((c) => c.id)).toContain("q8_0-1t");
  });

  it("bad input: truncated GGUF (exit 1), unknown type (exit 2), folder without config.json (exit 1) — nothing written", async () => {
    const truncated = join(dir, "truncated.gguf");
    await writeFile(truncated, (await readFile(tinyLlamaF16)).subarray(0, 500_000));
    const out = join(dir, "bad");
    const t = await runCli(["quantize", truncated, "--method", "Q4_0", "-o", join(out, "t.gguf")]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^error\[TRUNCATED_FILE\]/m);
    const u = await runCli(["quantize", tinyLlamaF16, "--method", "Q4_Z", "-o", join(out, "u.gguf")]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^error\[INVALID_OPTION\]: unknown quantization type "Q4_Z"/m);
    await rm(join(hfFolder, "config.json"));
    const c = await runCli(["convert", hfFolder, "--to", "gguf", "-o", join(out, "c.gguf")]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error\[INVALID_CONFIG\]: .* has no config\.json/m);
    const o = await runCli(["convert", hfFolder, "--to", "gguf", "--outtype", "q4_0"]);
    expect(o.code).toBe(2);
    expect(await readdir(dir)).not.toContain("bad");
  });
});
