import { describe, expect, it } from "vitest";
import { clipUnique } from "./text-layout.js";

describe("clipUnique", () => {
  it("cuts the middle of long names and keeps the shortened names distinct (the optimize summary's candidate column)", () => {
    const ids = [
      "fp32-2t-all",
      "int8-dynamic-perChannel-false-weightType-uint8-2t-all-noarena",
      "int8-dynamic-perChannel-false-weightType-uint8-1t-all-noarena",
      "int8-dynamic-perChannel-false-weightType-int8-1t-all-noarena",
    ];
    const clipped = clipUnique(ids, 40);
    expect(clipped[0]).toBe("fp32-2t-all");
    expect(new Set(clipped).size).toBe(ids.length);
    for (const name of clipped.slice(1)) expect(name).toContain("…");
    expect(clipped[1]).toMatch(/^int8-dynamic.*2t-all-noarena$/);
    expect(Math.max(...clipped.map((c) => c.length))).toBeLessThan(ids[1]!.length);
  });

  it("leaves names that differ only where a cut would fall whole rather than merge them", () => {
    const ids = ["aaaaaaaaaaXaaaaaaaaaa", "aaaaaaaaaaYaaaaaaaaaa"];
    expect(clipUnique(ids, 10)).toEqual(ids);
  });
});
