import { mkdtemp, open, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeforgeError } from "./errors.js";
import { hashFileSha256 } from "./hashing.js";
import { hashFileSha256InWorker } from "./hash-worker.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeforge-hash-worker-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hashFileSha256InWorker", () => {
  it("gives hashFileSha256's digest: empty, one buffer, several buffers and a partial one", async () => {
    const sizes = [0, 3, (1 << 20) - 1, (3 << 20) + 12345];
    for (const size of sizes) {
      const path = join(dir, `file-${size}.bin`);
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
      await writeFile(path, bytes);
      expect(await hashFileSha256InWorker(path)).toBe(await hashFileSha256(path));
    }
    // Two jobs at once are answered each with its own file's digest.
    const [a, b] = await Promise.all(sizes.slice(2).map((size) => hashFileSha256InWorker(join(dir, `file-${size}.bin`))));
    expect([a, b]).toEqual(await Promise.all(sizes.slice(2).map((size) => hashFileSha256(join(dir, `file-${size}.bin`)))));
  });

  it("hashes an open descriptor from its start, also when the file is renamed meanwhile, and leaves it open", async () => {
    const path = join(dir, "by-fd.bin");
    await writeFile(path, new Uint8Array((2 << 20) + 5).fill(9));
    const expected = await hashFileSha256(path);
    const handle = await open(path, "r");
    try {
      await handle.read(new Uint8Array(10), 0, 10, null);
      const digest = hashFileSha256InWorker({ fd: handle.fd, path });
      await rename(path, join(dir, "by-fd-renamed.bin"));
      expect(await digest).toBe(expected);
      expect((await handle.stat()).size).toBe((2 << 20) + 5);
    } finally {
      await handle.close();
    }
  });

  it("a missing file is FILE_NOT_FOUND, as from hashFileSha256", async () => {
    const error = await hashFileSha256InWorker(join(dir, "missing.bin")).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(error) && error.code).toBe("FILE_NOT_FOUND");
  });

  it("an aborted job rejects with the signal's reason, and the worker serves the next one", async () => {
    const path = join(dir, "big.bin");
    await writeFile(path, new Uint8Array(8 << 20));
    const controller = new AbortController();
    const pending = hashFileSha256InWorker(path, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    expect(await hashFileSha256InWorker(path)).toBe(await hashFileSha256(path));
  });
});
