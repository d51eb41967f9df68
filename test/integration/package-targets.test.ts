import { execFile } from "node:child_process";
import { access, chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { packageArtifact, type MobileBundleManifest } from "../../src/api/package.js";
import { verifyArtifactSignature } from "../../src/api/signing.js";
import { EdgeforgeError } from "../../src/core/errors.js";
import { writeCertifiedGguf, type CertifiedGguf } from "../fixtures/certified-gguf.js";
import { writeLargeF16Gguf } from "../fixtures/large-f16-gguf.js";
import { llamaCppReference } from "../fixtures/llm-models.js";
import { repoRoot, sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const run = promisify(execFile);
const temp = useTempDir("edgeforge-package-");

/**
 * dockerfilelint 1.8's HEALTHCHECK check matches option names with /--\w+/, which cuts
 * `--start-period` at its hyphen and reports it as unknown. Docker documents --start-period (the
 * model loads during it, so early failures do not count); the issue is the linter's, kept justified here.
 */
const justifiedLintIssues = [{ title: "Invalid Argument Format", contentIncludes: "--start-period=" }];

interface LintIssue {
  line: string;
  content: string;
  title: string;
}

async function dockerfileLint(path: string): Promise<LintIssue[]> {
  const bin = join(repoRoot, "node_modules", ".bin", "dockerfilelint");
  const { stdout } = await run(bin, ["-o", "json", path]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return (JSON.parse(stdout) as { files: Array<{ issues: LintIssue[] }> }).files.flatMap((f) => f.issues);
}

async function systemdVerify(unitPath: string): Promise<{ code: number; stderr: string }> {
  return run("systemd-analyze", ["verify", unitPath]).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code?: number; stderr?: string }) => ({ code: typeof error.code === "number" ? error.code : 1, stderr: error.stderr ?? "" }),
  );
}

describe("edgeforge package (library) on a certified tiny-fortunes Q4_K_M", () => {
  let certified: CertifiedGguf;
  beforeAll(async () => {
    certified = await writeCertifiedGguf(temp.path);
    expect(certified.certification.approval.failed).toEqual([]);
  }, 300_000);

  it("docker: pinned Node 20 slim, non-root, read-only model layer, HEALTHCHECK on the ready route, serve entrypoint; dockerfilelint clean but one justified issue; the carried signature verifies", async () => {
    const out = temp.join("docker");
    const result = await packageArtifact({ artifact: certified.artifact, certification: certified.certificationDir, target: "docker", output: out, key: certified.publicKey, name: "fortunes" });
    const dockerfile = await readFile(join(out, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^ARG EDGEFORGE_PACKAGE=edgeforge@\d+\.\d+\.\d+$/m);
    expect(dockerfile).toContain("COPY --chown=0:0 model/ /models/");
    expect(dockerfile).toContain("COPY --chown=0:0 certification/ /etc/edgeforge/certification/");
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/v2\/health\/ready/m);
    expect(dockerfile).toContain('ENTRYPOINT ["edgeforge","serve"]');
    expect(dockerfile).toContain(`"--model","fortunes:${certified.certification.artifact.sha256.slice(0, 12)}=/models/fortunes-q4_k_m.gguf"`);
    expect(dockerfile).toContain('"--require-signature","--key","/etc/edgeforge/release.pub.pem"');
    expect(dockerfile.indexOf("USER 1000")).toBeGreaterThan(dockerfile.lastIndexOf("COPY"));

    const issues = await dockerfileLint(join(out, "Dockerfile"));
    const unjustified = issues.filter((issue) => !justifiedLintIssues.some((j) => issue.title === j.title && issue.content.includes(j.contentIncludes)));
    expect(unjustified).toEqual([]);
    expect(await readFile(join(out, ".dockerignore"), "utf8")).toContain("!model/");
    const readme = await readFile(join(out, "README.md"), "utf8");
    expect(readme).toContain(`docker build -t edgeforge-fortunes:${result.model.version} .`);
    expect(readme).toMatch(/docker run -d .* --read-only --tmpfs \/tmp --cap-drop ALL .* --memory \d+m --cpus 2 /);

    // the package holds the exact certified bytes, its signature verifies them, and the manifest lists every file
    await verifyArtifactSignature(join(out, "model", "fortunes-q4_k_m.gguf"), join(out, "model", "fortunes-q4_k_m.gguf.sig"), await readFile(certified.publicKey, "utf8"));
    const manifest = JSON.parse(await readFile(join(out, "edgeforge-package.json"), "utf8")) as { files: Array<{ path: string; sha256: string; role: string }> };
    expect(manifest.files.find((f) => f.role === "model")?.sha256).toBe(certified.certification.artifact.sha256);
    for (const name of ["certification/certification.json", "certification/provenance.sigstore.json", "certification/verification-summary.sigstore.json", "release.pub.pem", "Dockerfile"]) {
      expect(manifest.files.map((f) => f.path)).toContain(name);
    }
    await expect(access(join(out, ".edgeforge.lock"))).rejects.toThrow();
  });

  it("systemd: systemd-analyze verify accepts the hardened unit (and rejects a broken copy)", async () => {
    const out = temp.join("systemd");
    // verify checks that ExecStart's program exists: point it at an executable that does
    const bin = temp.join("edgeforge-bin");
    await writeFile(bin, "#!/bin/sh\nexit 0\n");
    await chmod(bin, 0o755);
    await packageArtifact({ artifact: certified.artifact, certification: certified.certificationDir, target: "systemd", output: out, name: "fortunes", edgeforgeBin: bin });
    const unitPath = join(out, "edgeforge-fortunes.service");
    const unit = await readFile(unitPath, "utf8");
    for (const line of ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "Restart=on-failure", "WantedBy=multi-user.target"]) {
      expect(unit).toContain(`\n${line}\n`);
    }
    expect(unit).toMatch(/\nMemoryMax=\d+M\n/);
    expect(unit).toMatch(/\nCPUQuota=200%\n/);
    expect(unit).toContain(`ExecStart=${bin} serve --model fortunes:`);
    const verified = await systemdVerify(unitPath);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);

    const broken = temp.join("edgeforge-broken.service");
    await writeFile(broken, unit.replace("ProtectSystem=strict", "ProtectSystem=sideways").replace("Restart=on-failure", "Restart=sometimes"));
    const rejected = await systemdVerify(broken);
    expect(rejected.stderr).toContain("Failed to parse protect system value");
    expect(rejected.stderr).toContain("Failed to parse service restart specifier");
  });

  it("android: tiny-fortunes Q4_K_M passes the APK budget with measured model bytes and estimated runtime bytes", async () => {
    const out = temp.join("android");
    const result = await packageArtifact({ artifact: certified.artifact, certification: certified.certificationDir, target: "android", output: out });
    const bundle = JSON.parse(await readFile(join(out, "bundle-manifest.json"), "utf8")) as MobileBundleManifest;
    expect(bundle).toEqual(result.bundle);
    expect(bundle.model.quantization).toBe("Q4_K_M");
    expect(bundle.size.modelBytes).toBe(llamaCppReference.sizesBytes.Q4_K_M);
    expect(bundle.size.budgetBytes).toBe(100_000_000);
    expect(bundle.size.totalBytes).toBeLessThan(100_000_000);
    expect(bundle.size.totalBytes).toBe(bundle.size.modelBytes + (bundle.size.runtimeLibraryBytes ?? 0));
    expect(bundle.memory.expectedRunKind).toBe("estimate");
    expect(bundle.memory.measuredPeakRssBytes).toBeGreaterThan(0);
    expect(bundle.runtime).toMatchObject({ name: "llama.cpp", certifiedWith: `llama-cpp ${certified.certification.compliance.runtimeVersion}`, settings: { useMmap: true } });
    expect(bundle.checks.filter((c) => c.required).every((c) => c.passed)).toBe(true);
    const readme = await readFile(join(out, "README.md"), "utf8");
    expect(readme).toContain("| model files | 3,604,800 B | measured |");
  });

  it("android: an F16 build of a larger model fails the APK budget with the numbers, before reading any certification, writing nothing", async () => {
    const big = temp.join("wide-llama-f16.gguf");
    const { sizeBytes, parameterCount } = await writeLargeF16Gguf(big);
    expect(sizeBytes).toBeGreaterThan(100_000_000);
    const out = temp.join("android-f16");
    const error = await packageArtifact({ artifact: big, certification: temp.join("no-certification-here"), target: "android", output: out }).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(error)).toBe(true);
    const failure = error as EdgeforgeError;
    expect(failure.code).toBe("BUDGET_EXCEEDED");
    expect(failure.message).toContain(`model ${sizeBytes.toLocaleString("en-US")} B (F16, measured)`);
    expect(failure.message).toContain("vs 100,000,000 B (100.0 MB, the workflow's android APK budget)");
    expect(failure.hint).toMatch(/^Q4_K_M would be about \d+\.\d MB .* edgeforge quantize wide-llama-f16\.gguf --method Q4_K_M/);
    expect(failure.details).toMatchObject({ modelBytes: sizeBytes, budgetBytes: 100_000_000 });
    expect(parameterCount).toBeGreaterThan(50_000_000);
    await expect(access(out)).rejects.toThrow();
  });

  it("refuses a certification of another artifact, and a folder with no certification", async () => {
    const mismatch = await packageArtifact({ artifact: sharedModels.tinyLlamaF16, certification: certified.certificationDir, target: "docker", output: temp.join("mismatch") }).catch((e: unknown) => e);
    expect((mismatch as EdgeforgeError).code).toBe("CERTIFICATE_MISMATCH");
    const missing = await packageArtifact({ artifact: certified.artifact, certification: temp.path, target: "systemd", output: temp.join("missing") }).catch((e: unknown) => e);
    expect((missing as EdgeforgeError).code).toBe("FILE_NOT_FOUND");
    expect((missing as EdgeforgeError).hint).toContain("edgeforge certify");
  });
});
