import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../../test/fixtures/temp-dir.js";
import { createPayloadFolder, PayloadFile, removePayloadFolder, sweepOrphanedPayloadFolders } from "./payload-files.js";

const base = useTempDir("edgeforge-payload-sweep-");

describe("payload files", () => {
  it("carry pieces written by one side to the other whole, in a private folder removed afterwards", () => {
    const paths = createPayloadFolder();
    try {
      expect(statSync(paths.folder).mode & 0o777).toBe(0o700);
      const serverSide = new PayloadFile(paths.responsePath, true);
      const workerSide = new PayloadFile(paths.responsePath, false);
      const json = new TextEncoder().encode('{"outputs":[]}');
      const tensor = new Float32Array(70_000).map((_, i) => i * 0.5);
      const bytes = new Uint8Array(tensor.buffer, 4, tensor.byteLength - 4);
      expect(workerSide.write([json, bytes])).toBe(json.byteLength + bytes.byteLength);
      const read = serverSide.readOwned(json.byteLength + bytes.byteLength);
      expect(Buffer.from(read.subarray(0, json.byteLength)).toString()).toBe('{"outputs":[]}');
      expect(Buffer.compare(Buffer.from(read.subarray(json.byteLength)), Buffer.from(bytes))).toBe(0);
      // A shorter body overwrites the start; the reused buffer gives exactly its bytes.
      workerSide.write([json]);
      const shared = serverSide.readShared(json.byteLength);
      expect(Buffer.from(shared).toString()).toBe('{"outputs":[]}');
      expect(() => serverSide.readOwned(read.byteLength + 1)).toThrow(/ended/);
      serverSide.close();
      workerSide.close();
    } finally {
      removePayloadFolder(paths);
    }
    expect(existsSync(paths.folder)).toBe(false);
  });

  it("lends the reused buffer to one response at a time: a body still being written is never overwritten", () => {
    const paths = createPayloadFolder();
    try {
      const serverSide = new PayloadFile(paths.responsePath, true);
      const workerSide = new PayloadFile(paths.responsePath, false);
      const first = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
      workerSide.write([first]);
      const lease = serverSide.readLeased(first.byteLength);
      expect(Buffer.from(lease.bytes).equals(Buffer.from(first))).toBe(true);
      // The next response arrives while the first is still out: it gets its own buffer.
      const second = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 253);
      workerSide.write([second]);
      const overlapping = serverSide.readLeased(second.byteLength);
      expect(Buffer.from(overlapping.bytes).equals(Buffer.from(second))).toBe(true);
      expect(Buffer.from(lease.bytes).equals(Buffer.from(first))).toBe(true);
      overlapping.release();
      lease.release();
      lease.release();
      // Released: the reused buffer serves the next body (a view of it, exactly the body's length).
      const again = serverSide.readLeased(second.byteLength);
      expect(again.bytes.buffer).toBe(lease.bytes.buffer);
      expect(Buffer.from(again.bytes).equals(Buffer.from(second))).toBe(true);
      again.release();
      serverSide.close();
      workerSide.close();
    } finally {
      removePayloadFolder(paths);
    }
  });

  it("sweeps the folders of servers that no longer exist (a SIGKILLed server cleans nothing), keeping live ones", () => {
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
    const orphan = base.join(`edgeforge-serve-${deadPid}-abc123`);
    const live = base.join(`edgeforge-serve-${process.pid}-def456`);
    const unrelated = base.join("edgeforge-serve-notapid");
    for (const folder of [orphan, live, unrelated]) mkdirSync(folder);
    sweepOrphanedPayloadFolders(base.path);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
  });
});
