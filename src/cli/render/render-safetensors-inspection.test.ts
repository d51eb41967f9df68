import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inspectSafetensors } from "../../formats/safetensors/inspect-safetensors.js";
import { renderSafetensorsInspection } from "./render-safetensors-inspection.js";
import { makeTempDir } from "../../../test/fixtures/temp-dir.js";

describe("renderSafetensorsInspection", () => {
  it("renders a safetensors file with its dtype table and a weights-only estimate", async () => {
    const dir = await makeTempDir("render-");
    try {
      const json = JSON.stringify({ w: { dtype: "F16", shape: [2, 2], data_offsets: [0, 8] } });
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      const path = join(dir, "w.safetensors");
      await writeFile(path, Buffer.concat([length, Buffer.from(json), Buffer.alloc(8)]));
      const text = renderSafetensorsInspection(await inspectSafetensors(path));
      expect(text).toMatch(/^safetensors file {2}/);
      expect(text).toMatch(/F16\s+1\s+4\s+8 B/);
      expect(text).toContain("total (estimate)");
      expect(text).not.toMatch(/KV cache \(f16\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
