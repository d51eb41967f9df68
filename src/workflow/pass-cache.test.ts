import { execFile, spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";
import { computePassCacheKey, openPassCache, type PassCacheKeyParts } from "./pass-cache.js";

const parts: PassCacheKeyParts = {
  inputSha256: "a".repeat(64),
  passId: "onnx.convert.fp16",
  passVersion: "1",
  options: { keepIoTypes: true, blockList: ["Resize"] },
  toolVersions: { edgeforge: "0.1.0" },
};

describe("computePassCacheKey", () => {
  it("is stable under key order and changes with each part", () => {
    const key = computePassCacheKey(parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(computePassCacheKey({ ...parts, options: { blockList: ["Resize"], keepIoTypes: true } })).toBe(key);
    for (const changed of [
      { ...parts, inputSha256: "b".repeat(64) },
      { ...parts, passId: "onnx.quantize.int4" },
      { ...parts, passVersion: "2" },
      { ...parts, options: { keepIoTypes: false, blockList: ["Resize"] } },
      { ...parts, toolVersions: { edgeforge: "0.2.0" } },
    ]) {
      expect(computePassCacheKey(changed)).not.toBe(key);
    }
  });
});

describe("openPassCache", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir("cache-");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const produce = (content: string) => async (outputDir: string) => {
    const path = join(outputDir, "model_fp16.onnx");
    await writeFile(path, content);
    await writeFile(join(outputDir, "model_fp16.onnx.data"), "weights");
    return {
      artifact: { format: "onnx" as const, path, files: [join(outputDir, "model_fp16.onnx.data")], sizeBytes: content.length, lineage: [] },
      log: { counts: { converted: 3 }, notes: ["ok"] },
      durationMs: 12,
    };
  };

  it("misses, stores, then hits with intact files", async () => {
    const cache = openPassCache({ dir, enabled: true });
    const key = computePassCacheKey(parts);
    expect(await cache.lookup(key)).toBeUndefined();
    const stored = await cache.store(key, parts, produce("model bytes"));
    expect(stored.hit).toBe(false);
    const hit = await cache.lookup(key);
    expect(hit?.hit).toBe(true);
    expect(hit?.artifact.files).toHaveLength(2);
    expect(await readFile(hit?.artifact.path as string, "utf8")).toBe("model bytes");
    expect(hit?.log.counts.converted).toBe(3);
    expect(hit?.durationMs).toBe(12);
    expect(await readdir(join(dir, "passes"))).toEqual([key]);
  });

  it("treats a tampered artifact as a miss", async () => {
    const cache = openPassCache({ dir, enabled: true });
    const key = computePassCacheKey(parts);
    const stored = await cache.store(key, parts, produce("model bytes"));
    await writeFile(stored.artifact.path, "changed");
    expect(await cache.lookup(key)).toBeUndefined();
  });

  it("leaves no entry behind when the pass fails", async () => {
    const cache = openPassCache({ dir, enabled: true });
    const key = computePassCacheKey(parts);
    await expect(
      cache.store(key, parts, async () => {
        throw new Error("pass failed");
      }),
    ).rejects.toThrow("pass failed");
    expect(await readdir(join(dir, "passes"))).toEqual([]);
  });

  it("never hits when disabled, but still stores outputs", async () => {
    const cache = openPassCache({ dir, enabled: false });
    const key = computePassCacheKey(parts);
    const stored = await cache.store(key, parts, produce("x"));
    expect(await readFile(stored.artifact.path, "utf8")).toBe("x");
    expect(await cache.lookup(key)).toBeUndefined();
  });

  it("two processes storing the same entry at once: one produces it, the other waits for the lock and finds it", async () => {
    const script = join(import.meta.dirname, "../../test/fixtures/store-pass-cache-entry.ts");
    const runOne = () => promisify(execFile)(process.execPath, ["--import", "tsx", script, dir, join(dir, "barrier"), "2"]);
    const outputs = (await Promise.all([runOne(), runOne()])).map((out) => JSON.parse(out.stdout) as { lookupHit: boolean; hit: boolean; path: string; sha256: string });
    // Both passed the barrier before either stored, so both missed the lookup and both called store.
    expect(outputs.map((out) => out.lookupHit)).toEqual([false, false]);
    const producers = (await readFile(join(dir, "produced.log"), "utf8")).trim().split("\n");
    expect(producers).toHaveLength(1);
    expect(outputs.map((out) => out.hit).sort()).toEqual([false, true]);
    expect(new Set(outputs.map((out) => out.path)).size).toBe(1);
    expect(await readFile(outputs[0]?.path as string, "utf8")).toBe("bytes of the model");
    expect(await readdir(join(dir, "passes"))).toEqual([computePassCacheKey({ inputSha256: "c".repeat(64), passId: "gguf.quantize", passVersion: "1", options: { type: "Q8_0" }, toolVersions: {} })]);
  }, 60_000);

  it("sweeps the scratch folder a killed writer left", async () => {
    const cache = openPassCache({ dir, enabled: true });
    const key = computePassCacheKey(parts);
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const orphan = join(dir, "passes", `.${key}.${deadPid}-${"0".repeat(12)}.tmp`);
    await mkdir(orphan, { recursive: true });
    await cache.store(key, parts, produce("x"));
    expect(await readdir(join(dir, "passes"))).toEqual([key]);
  });
});
