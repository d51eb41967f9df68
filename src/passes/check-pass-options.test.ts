import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { getPass } from "./catalog.js";
import { checkPassOptions } from "./check-pass-options.js";

const int4 = getPass("onnx.quantize.int4");

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (EdgeforgeError.isInstance(error) && error.code === "INVALID_OPTION") return error.message;
    throw error;
  }
  throw new Error("no error");
}

describe("checkPassOptions", () => {
  it("says which values a literal union allows and what it got", () => {
    expect(messageOf(() => checkPassOptions(int4.optionsSchema, { blockSize: 7 }, "int4", "h"))).toBe("invalid int4 option: blockSize must be one of 16, 32, 64, 128 (got 7)");
  });

  it("refuses option names the pass does not have, listing the ones it has", () => {
    expect(messageOf(() => checkPassOptions(int4.optionsSchema, { blokSize: 32 }, "int4", "h"))).toBe("option blokSize does not apply to int4");
  });

  it("returns the parsed options with defaults filled in", () => {
    expect(checkPassOptions(int4.optionsSchema, { blockSize: 64 }, "int4", "h")).toMatchObject({ blockSize: 64 });
  });
});
