import { access } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { writeLargeF16Gguf } from "../fixtures/large-f16-gguf.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { runCli } from "../fixtures/run-cli.js";

const temp = useTempDir("edgeforge-package-cli-");

describe("edgeforge package (built CLI)", () => {
  it("an F16 model over the Android APK budget: error[BUDGET_EXCEEDED] with the numbers, a hint, exit 1, nothing written", async () => {
    const big = temp.join("wide-llama-f16.gguf");
    const { sizeBytes } = await writeLargeF16Gguf(big);
    const out = temp.join("out");
    const result = await runCli(["package", big, "--target", "android", "-o", out, "--certification", temp.join("none")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[BUDGET_EXCEEDED]: android package of wide-llama-f16.gguf fails 1 budget check(s)");
    expect(result.stderr).toContain(`model ${sizeBytes.toLocaleString("en-US")} B (F16, measured)`);
    expect(result.stderr).toMatch(/hint: Q4_K_M would be about \d+\.\d MB/);
    await expect(access(out)).rejects.toThrow();
    const raised = await runCli(["package", big, "--target", "android", "-o", out, "--certification", temp.join("none"), "--budget", "1GB"]);
    expect(raised.code).toBe(1);
    expect(raised.stderr).toContain("error[FILE_NOT_FOUND]: no certification.json in");
  });

  it("usage errors: an unknown target, a missing --certification", async () => {
    const bad = await runCli(["package", "x.gguf", "--target", "raspberry", "-o", temp.join("o"), "--certification", "c"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error[USAGE]");
    expect(bad.stderr).toContain("docker, k8s, systemd, android, ios, bundle");
    const missing = await runCli(["package", "x.gguf", "--target", "docker", "-o", temp.join("o")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--certification");
  });
});
