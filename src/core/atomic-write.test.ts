import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAtomicWriter } from "./atomic-write.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeforge-atomic-write-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Chunks of assorted sizes (under, at and over the 64 KiB gather buffer), 20 MiB in all: past the early-sync step. */
function chunks(): Uint8Array[] {
  const sizes = [1, 100, 65536, 65535, 2, 300_000, 1 << 20, 7];
  const out: Uint8Array[] = [];
  for (let total = 0, i = 0; total < 20 << 20; i++) {
    const chunk = new Uint8Array(sizes[i % sizes.length]!).fill(i & 0xff);
    out.push(chunk);
    total += chunk.byteLength;
  }
  return out;
}

describe("openAtomicWriter", () => {
  it("writes and writeSync interleaved land in order, durable (with early syncs) or not, and nothing shows before commit", async () => {
    for (const durable of [true, false]) {
      const path = join(dir, `out-${durable}.bin`);
      const writer = await openAtomicWriter(path, { durable });
      const parts = chunks();
      for (const [index, chunk] of parts.entries()) {
        if (index % 3 === 0) await writer.write(chunk);
        else writer.writeSync(chunk);
      }
      expect(await readdir(dir)).not.toContain(`out-${durable}.bin`);
      await writer.commit();
      const expected = Buffer.concat(parts);
      expect(writer.bytesWritten()).toBe(expected.byteLength);
      expect(Buffer.compare(await readFile(path), expected)).toBe(0);
    }
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("abort removes the temp file, also with an early sync under way", async () => {
    const writer = await openAtomicWriter(join(dir, "aborted.bin"));
    writer.writeSync(new Uint8Array(9 << 20));
    await writer.abort();
    expect((await readdir(dir)).filter((name) => name.startsWith(".aborted"))).toEqual([]);
  });

  it("commit's beforeRename reads the finished temp file while it syncs; when it throws, the previous file stays and no temp file is left", async () => {
    const path = join(dir, "checked.bin");
    const first = await openAtomicWriter(path);
    first.writeSync(new Uint8Array(9 << 20).fill(1));
    let seen: Buffer | undefined;
    await first.commit(async (tempPath) => {
      expect(tempPath).not.toBe(path);
      seen = await readFile(tempPath);
    });
    expect(seen?.byteLength).toBe(9 << 20);
    expect(Buffer.compare(await readFile(path), seen!)).toBe(0);

    const second = await openAtomicWriter(path);
    second.writeSync(new Uint8Array(100).fill(2));
    const refused = new Error("refused");
    await expect(second.commit(async () => Promise.reject(refused))).rejects.toBe(refused);
    expect(Buffer.compare(await readFile(path), seen!)).toBe(0);
    expect((await readdir(dir)).filter((name) => name.startsWith(".checked"))).toEqual([]);
  });
});
