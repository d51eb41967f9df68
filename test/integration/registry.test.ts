import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../src/core/errors.js";
import { hashFileSha256 } from "../../src/core/hashing.js";
import { Registry } from "../../src/registry/registry.js";
import { resolveRegistryModel } from "../../src/registry/resolve-registry-model.js";
import { useTempDir } from "../fixtures/temp-dir.js";

const writer = fileURLToPath(new URL("../fixtures/registry-writer.ts", import.meta.url));
const mnist = "../shared/models/mnist-8.onnx";
const stories = "../shared/models/stories260K.gguf";

function runWriter(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", writer, ...args], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? -1));
  });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "returned";
  } catch (error) {
    return EdgeforgeError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
}

describe("model registry on SQLite", () => {
  const temp = useTempDir("registry-");

  it("stores versions content-addressed, moves aliases with an audit history, resolves name@alias", async () => {
    const path = temp.join("basic", "registry.db");
    let clock = Date.parse("2026-01-01T00:00:00Z");
    using registry = Registry.open(path, { now: () => new Date((clock += 1000)) });
    const v1 = await registry.addVersion({ model: "digits", path: mnist, command: "test" });
    expect(v1.version).toBe("1");
    expect(v1.artifact.digest).toBe(await hashFileSha256(mnist));
    expect(await hashFileSha256(v1.artifact.path as string)).toBe(v1.artifact.digest);
    // same bytes again: the same version, not a duplicate
    expect((await registry.addVersion({ model: "digits", path: mnist, command: "test" })).version).toBe("1");
    const v2 = await registry.addVersion({ model: "digits", path: stories, command: "test", notes: "a different file" });
    expect(v2.version).toBe("2");
    await expect(registry.addVersion({ model: "digits", path: mnist, version: "2", command: "test" })).rejects.toMatchObject({ code: "REGISTRY_CONFLICT" });

    registry.setAlias({ model: "digits", alias: "production", version: "1", reason: "first release", command: "test" });
    registry.setAlias({ model: "digits", alias: "candidate", version: "2", reason: "trial", command: "test" });
    registry.setAlias({ model: "digits", alias: "production", version: "2", reason: "promote", command: "test", details: { trafficPercent: 100 } });
    expect(registry.resolve("digits@production").version).toBe("2");
    expect(registry.resolve("digits@1").artifact.digest).toBe(v1.artifact.digest);
    expect(registry.resolve("digits").version).toBe("2");
    expect(registry.aliasHistory("digits", "production").map((e) => [e.fromVersion, e.toVersion, e.reason])).toEqual([
      [undefined, "1", "first release"],
      ["1", "2", "promote"],
    ]);
    expect(registry.aliasHistory("digits", "production")[1]?.details).toEqual({ trafficPercent: 100 });
    expect(codeOf(() => registry.resolve("digits@staging"))).toBe("REGISTRY_NOT_FOUND");
    expect(codeOf(() => registry.resolve("nothing@1"))).toBe("REGISTRY_NOT_FOUND");
    expect(codeOf(() => registry.setAlias({ model: "digits", alias: "9bad", version: "1", reason: "", command: "test" }))).toBe("INVALID_OPTION");
    expect(registry.listModels()).toEqual([expect.objectContaining({ name: "digits", versions: 2, latestVersion: "2", aliases: { candidate: "2", production: "2" } })]);
    const exported = registry.export() as { models: unknown[]; aliasHistory: unknown[]; artifacts: unknown[] };
    expect(exported.models).toHaveLength(1);
    expect(exported.aliasHistory).toHaveLength(3);
    expect(exported.artifacts).toHaveLength(2);
    registry.close();
    // the library entry for loaders: read-only, by path
    expect(resolveRegistryModel("digits@candidate", path).artifact.path).toMatch(/store\/sha256\/[0-9a-f]{64}\/stories260K\.gguf$/);
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("two processes writing 500 evaluations each at once end with 1,000 rows", async () => {
    const path = temp.join("concurrent", "registry.db");
    const digest = await (async () => {
      using registry = Registry.open(path);
      return (await registry.addArtifact(mnist)).digest;
    })();
    const codes = await Promise.all([runWriter([path, digest, "evaluations", "500", "a"]), runWriter([path, digest, "evaluations", "500", "b"])]);
    expect(codes).toEqual([0, 0]);
    using registry = Registry.open(path);
    const evaluations = registry.evaluationsOf(digest);
    expect(evaluations).toHaveLength(1000);
    expect(evaluations.filter((e) => e.hardwareFingerprint === "writer-a")).toHaveLength(500);
    expect(new Set(evaluations.map((e) => e.source)).size).toBe(1000);
  });

  it("kill -9 during writes leaves a consistent database: whole batches only, integrity ok", async () => {
    const path = temp.join("killed", "registry.db");
    const digest = await (async () => {
      using registry = Registry.open(path);
      return (await registry.addArtifact(mnist)).digest;
    })();
    const batchSize = 250;
    const child = spawn(process.execPath, ["--import", "tsx", writer, path, digest, "batches", String(batchSize), "k"], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    // wait until a few batches are committed, then kill in the middle of the stream of writes
    const reader = new Database(path, { readonly: true });
    const count = (): number => (reader.prepare("SELECT count(*) AS n FROM evaluations").get() as { n: number }).n;
    while (count() < 3 * batchSize) await new Promise((r) => setTimeout(r, 20));
    reader.close();
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));
    using registry = Registry.open(path);
    const rows = registry.evaluationsOf(digest).length;
    expect(rows).toBeGreaterThanOrEqual(3 * batchSize);
    expect(rows % batchSize).toBe(0);
    const db = new Database(path);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(db.pragma("foreign_key_check")).toEqual([]);
    db.close();
  });

  it("refuses a corrupt file and another program's SQLite database without touching them", async () => {
    const garbage = temp.join("garbage.db");
    const bytes = randomBytes(64 * 1024);
    await writeFile(garbage, bytes);
    expect(codeOf(() => Registry.open(garbage))).toBe("REGISTRY_CORRUPT");
    expect(Buffer.compare(await readFile(garbage), bytes)).toBe(0);

    const foreign = temp.join("foreign.db");
    const db = new Database(foreign);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
    db.close();
    const before = await readFile(foreign);
    expect(codeOf(() => Registry.open(foreign))).toBe("REGISTRY_CORRUPT");
    expect(Buffer.compare(await readFile(foreign), before)).toBe(0);

    // a real registry whose pages were overwritten in the middle
    const damaged = temp.join("damaged", "registry.db");
    {
      using registry = Registry.open(damaged);
      await registry.addVersion({ model: "digits", path: mnist, command: "test" });
      registry.recordEvaluations(Array.from({ length: 400 }, (_, i) => ({ artifactDigest: registry.resolve("digits").artifact.digest, metrics: [{ name: "x", value: i, unit: "ms" }], hardwareFingerprint: "h", source: `s${i}` })));
    }
    const content = await readFile(damaged);
    content.fill(0xa5, 4096 * 2, 4096 * 4);
    await writeFile(damaged, content);
    expect(codeOf(() => Registry.open(damaged))).toBe("REGISTRY_CORRUPT");
  });

  it("registers into a folder that does not exist yet and reports a missing model file", async () => {
    using registry = Registry.open(temp.join("new", "deeper", "registry.db"));
    await expect(registry.addVersion({ model: "x", path: temp.join("missing.onnx"), command: "test" })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await mkdir(temp.join("empty-folder"));
    await expect(registry.addVersion({ model: "x", path: temp.join("empty-folder"), command: "test" })).rejects.toBeInstanceOf(Error);
    expect(registry.listModels()).toEqual([]);
  });
});
