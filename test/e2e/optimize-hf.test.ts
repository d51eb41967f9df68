import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { quantizeGguf } from "../../src/api/llm.js";
import { readGgufAsHf, writeGgufAsHfFolder } from "../../src/passes/hf/export-gguf-as-hf.js";
import type { Report } from "../../src/reports/report.js";
import type { Certification } from "../../src/workflow/certify/run-certify.js";
import { differingGgufTensors } from "../fixtures/llm-test-helpers.js";
import { runCli } from "../fixtures/run-cli.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const temp = useTempDir("optimize-hf-");

describe("edgeforge optimize on a Hugging Face folder (built CLI): convert → quantize → measure", () => {
  it("measures the converted F16 as the baseline and quantizes from it (the chain's Q4_0 is llama.cpp's Q4_0 of the original), registers it with its lineage; certify re-measures against that conversion", async () => {
    // The folder is built FROM the real tiny-fortunes GGUF (lossless: F16 matrices, F32 norms, its tokenizer).
    const folder = temp.join("tiny-fortunes-hf");
    await writeGgufAsHfFolder(await readGgufAsHf(sharedModels.tinyLlamaF16), folder);
    // No runtime runs the folder itself: eval says how to convert it (it read the folder as a file before).
    const evaluated = await runCli(["eval", folder, "--text", sharedModels.heldoutText]);
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr).toContain("error[UNSUPPORTED_FEATURE]: no runtime runs safetensors models");
    const output = temp.join("out");
    const result = await runCli(
      [
        "optimize", folder, "-o", output, "--target", "local", "--gguf-types", "Q4_0", "--pass", "gguf.quantize", "--pass", "mlx.export",
        "--pass-option", "mlx.export:bits=8", "--threads", "1", "--ctx", "64",
        "--eval", sharedModels.heldoutText, "--eval-limit", "2", "--runs", "2", "--warmup", "1", "--shape", "tokens=8",
        "--no-memory-settings", "--no-default-gates", "--gate", "klDivergence <= 0.5", "--cache-dir", temp.join("cache"),
        "--register", "fortunes", "--registry", temp.join("registry.db"),
      ],
      { timeoutMs: 300_000 },
    );
    expect(result.stderr).toContain("Recommended:");
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(output, "report.json"), "utf8")) as Report;
    expect(report.plan.reasons.join("\n")).toMatch(/baseline: .*measured on llama\.cpp/);
    expect(report.candidates.map((c) => c.id)).toEqual(["gguf-1t", "q4_0-1t", "mlx"]);
    const [baseline, q4, mlx] = report.candidates;
    // The baseline is the conversion; the candidate is quantized from that conversion, each step in the lineage.
    expect(baseline?.passes.map((p) => p.passId)).toEqual(["hf.convert.gguf"]);
    expect(q4?.passes.map((p) => p.passId)).toEqual(["hf.convert.gguf", "gguf.quantize"]);
    expect(baseline?.status).toBe("measured");
    expect(q4?.status).toBe("measured");
    expect(q4?.metrics.tokensPerSec).toBeGreaterThan(0);
    expect(q4?.metrics.perplexity).toBeGreaterThan(1);
    expect(q4?.metrics.klDivergence).toBeGreaterThan(0);
    // KL divergence and top-1 agreement against the conversion the baseline ran (the folder itself is no GGUF).
    expect(report.evaluation?.method).toContain("against the input model converted to GGUF (the baseline)");
    expect(q4?.evaluationMethod).toContain(`against ${baseline!.artifact!.path}`);
    // MLX is exported from the folder itself and measured against the same conversion.
    expect(mlx?.passes.map((p) => p.passId)).toEqual(["mlx.export"]);
    expect(mlx?.status).toBe("measured");
    expect(mlx?.evaluationMethod).toContain(`against ${baseline!.artifact!.path} in llama.cpp`);
    expect(mlx?.metrics.klDivergence).toBeGreaterThan(0);
    // Same weights in, same quantizer: the chain's Q4_0 is llama.cpp's Q4_0 of the original GGUF, tensor for tensor.
    const direct = await quantizeGguf(sharedModels.tinyLlamaF16, temp.join("direct-q4_0.gguf"), { method: "Q4_0", threads: 1 });
    expect(await differingGgufTensors(q4!.artifact!.path, direct.artifact.path)).toEqual([]);
    expect(await differingGgufTensors(baseline!.artifact!.path, sharedModels.tinyLlamaF16)).toEqual([]);

    // --register: the recommended artifact with the folder as its parent and the whole chain as its lineage.
    expect(result.stderr).toMatch(/registered fortunes@1 \(sha256 [0-9a-f]{64}\) with its lineage and 2 evaluation\(s\)/);
    const lineage = await runCli(["registry", "lineage", "fortunes@1", "--registry", temp.join("registry.db"), "--json"]);
    expect(lineage.code, lineage.stderr).toBe(0);
    const registered = JSON.parse(lineage.stdout) as { producedBy: { parentDigest: string; passes: { passId: string }[] } };
    expect(registered.producedBy.passes.map((p) => p.passId)).toEqual(q4!.passes.map((p) => p.passId));
    expect(registered.producedBy.parentDigest).toMatch(/^[0-9a-f]{64}$/);

    // certify --remeasure with that report: against the conversion (the folder is no model llama.cpp runs), on the
    // run's own --eval text, at its prompt length; the report's memory estimate stands, as an estimate.
    const certified = temp.join("cert");
    const certify = await runCli(["certify", q4!.artifact!.path, "--report", join(output, "report.json"), "-o", certified, "--remeasure"], { timeoutMs: 300_000 });
    expect(certify.stderr).toContain(`certify: held-out text ${sharedModels.heldoutText} (the optimize run's --eval)`);
    const c = JSON.parse(await readFile(join(certified, "certification.json"), "utf8")) as Certification;
    expect(c.accuracy.source).toBe("re-measured");
    expect(c.accuracy.method).toContain(`against ${baseline!.artifact!.path}`);
    expect(c.accuracy.gates.map((g) => [g.metric, g.passed])).toEqual([["klDivergence", true]]);
    expect(c.performance.metrics.speedup).toBeGreaterThan(0);
    expect(c.performance.gates.find((g) => g.metric === "estimatedRunBytes")?.passed).toBe(true);
    expect(c.robustness.inputs).toMatch(/ chunks of 8 tokens from /);

    // The MLX folder is found in the report by its folder digest, not taken for the recommended candidate (a copy of
    // the report recommends the GGUF, whatever this run recommended), and runs on MLX.
    const recommendsGguf = temp.join("report-recommends-q4.json");
    await writeFile(recommendsGguf, JSON.stringify({ ...report, recommendation: { ...report.recommendation, candidateId: "q4_0-1t" } }));
    const mlxCert = temp.join("mlx-cert");
    const mlxRun = await runCli(["certify", mlx!.artifact!.path, "--report", recommendsGguf, "-o", mlxCert], { timeoutMs: 300_000 });
    expect(mlxRun.stderr).not.toContain("error[");
    const m = JSON.parse(await readFile(join(mlxCert, "certification.json"), "utf8")) as Certification;
    expect(m.report.candidateId).toBe("mlx");
    expect(m.compliance.runtime).toBe("mlx");

    // eval of the MLX folder against the conversion: MLX perplexity, KL and top-1 against llama.cpp on the same tokens.
    const mlxEval = await runCli(["eval", mlx!.artifact!.path, "--base", baseline!.artifact!.path, "--text", sharedModels.heldoutText, "--max-chunks", "1", "--ctx", "64", "--json"], { timeoutMs: 120_000 });
    expect(mlxEval.code, mlxEval.stderr).toBe(0);
    const record = JSON.parse(mlxEval.stdout) as { model: { format: string; runtime: string }; metricValues: Record<string, number> };
    expect(record.model).toMatchObject({ format: "mlx", runtime: "mlx" });
    // 8-bit of the same weights: the bounds mlx-in-mlx.test.ts states.
    expect(record.metricValues.klDivergence).toBeGreaterThan(0);
    expect(record.metricValues.klDivergence).toBeLessThan(1e-3);
    expect(record.metricValues.top1Agreement).toBeGreaterThanOrEqual(0.85);
    const withoutBase = await runCli(["eval", mlx!.artifact!.path, "--text", sharedModels.heldoutText]);
    expect(withoutBase.stderr).toContain("hint: pass --base MODEL.gguf");

    // serve runs neither the folder nor the MLX export, and says what to serve instead.
    const servedFolder = await runCli(["serve", "--model", `f=${folder}`, "--port", "0"]);
    expect(servedFolder.code).toBe(1);
    expect(servedFolder.stderr).toContain("hint: convert it first (`edgeforge convert MODEL --to gguf`), then serve the GGUF");
    const servedMlx = await runCli(["serve", "--model", `f=${mlx!.artifact!.path}`, "--port", "0"]);
    expect(servedMlx.code).toBe(1);
    expect(servedMlx.stderr).toContain("hint: serve the GGUF the MLX folder was exported from");
  }, 600_000);
});
