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
