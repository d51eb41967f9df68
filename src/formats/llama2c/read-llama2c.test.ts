import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../core/errors.js";
import { llama2cMagic, parseLlama2cHeader } from "./read-llama2c.js";

function legacyHead(config: number[]): Uint8Array {
  const head = new Uint8Array(40);
  config.forEach((value, i) => new DataView(head.buffer).setInt32(i * 4, value, true));
  return head;
}

// dim 8, hidden 16, 1 layer, 2 heads, 1 KV head, vocab 10, seq 4 → weights in export.py order.
const config = [8, 16, 1, 2, 1, 10, 4];
const legacyValues = 10 * 8 + 8 + 8 * 8 + 4 * 8 * 2 + 8 * 8 + 8 + 16 * 8 * 3 + 8 + 4 * 2 * 2;

describe("parseLlama2cHeader", () => {
  it("accepts a legacy checkpoint only when its config describes exactly the file's size", () => {
    const header = parseLlama2cHeader(legacyHead(config), 28 + legacyValues * 4, "m.bin");
    expect(header?.version).toBe(0);
    expect(header?.sharedClassifier).toBe(true);
    expect(header?.tensors.find((t) => t.name === "wk")?.shape).toEqual([4, 8]);
    expect(parseLlama2cHeader(legacyHead(config), 28 + legacyValues * 4 + 4, "m.bin")).toBeUndefined();
    // A negative vocabulary size means a separate classifier after the RoPE tables.
    const unshared = parseLlama2cHeader(legacyHead([8, 16, 1, 2, 1, -10, 4]), 28 + (legacyValues + 80) * 4, "m.bin");
    expect(unshared?.tensors.at(-1)).toMatchObject({ name: "wcls", shape: [10, 8] });
    expect(parseLlama2cHeader(legacyHead([8, 16, 1, 3, 1, 10, 4]), 28 + legacyValues * 4, "m.bin")).toBeUndefined();
  });

  it("reads the version-1 header and refuses version 2 (int8) with a stable code", () => {
    const head = new Uint8Array(40);
    const view = new DataView(head.buffer);
    view.setUint32(0, llama2cMagic, true);
    view.setInt32(4, 1, true);
    config.forEach((value, i) => view.setInt32(8 + i * 4, value, true));
    head[36] = 1;
    const values = legacyValues - 4 * 2 * 2;
    expect(parseLlama2cHeader(head, 256 + values * 4, "m.bin")?.tensors[0]?.name).toBe("rms_att_weight");
    let code: string | undefined;
    try {
      parseLlama2cHeader(head, 256 + values * 4 + 4, "m.bin");
    } catch (error) {
      code = EdgeforgeError.isInstance(error) ? error.code : undefined;
    }
    expect(code).toBe("CORRUPT_MODEL");
    view.setInt32(4, 2, true);
    expect(() => parseLlama2cHeader(head, 1000, "m.bin")).toThrow(/version 2/);
  });
});
