import { describe, expect, it } from "vitest";
import { oipRequestId, pickVersion, requestPosition } from "./traffic-split.js";

describe("traffic split", () => {
  it("sends a request id to the same version every time, and keeps it on the candidate as the weight grows", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `req-${i}`);
    const at = (weight: number) => ids.filter((id) => pickVersion({ stable: "1", candidate: "2", candidateWeight: weight }, id) === "2");
    const five = at(0.05);
    expect(at(0.05)).toEqual(five);
    // the share is near the weight (binomial sd for n = 2000, p = 0.25 is 19; allow 5 sd)
    expect(Math.abs(at(0.25).length - 500)).toBeLessThan(100);
    const quarter = new Set(at(0.25));
    expect(five.every((id) => quarter.has(id))).toBe(true);
    expect(at(0)).toEqual([]);
    expect(at(1)).toHaveLength(2000);
  });

  it("splits randomly without an id, and maps ids into [0, 1)", () => {
    const split = { stable: "1", candidate: "2", candidateWeight: 0.5 };
    expect(pickVersion(split, undefined, () => 0.49)).toBe("2");
    expect(pickVersion(split, undefined, () => 0.5)).toBe("1");
    expect(pickVersion({ stable: "1", candidateWeight: 1 }, "x")).toBe("1");
    for (const id of ["", "a", "zzzzzzzz"]) expect(requestPosition(id)).toBeGreaterThanOrEqual(0);
  });

  it("reads the id from the header, the JSON body or a binary request's JSON header", () => {
    const json = new TextEncoder().encode(JSON.stringify({ id: "abc", inputs: [] }));
    expect(oipRequestId("hdr", json, undefined)).toBe("hdr");
    expect(oipRequestId(undefined, json, undefined)).toBe("abc");
    const binary = new Uint8Array([...json, 1, 2, 3, 4]);
    expect(oipRequestId(undefined, binary, json.byteLength)).toBe("abc");
    expect(oipRequestId(undefined, binary, undefined)).toBeUndefined();
    expect(oipRequestId(undefined, new TextEncoder().encode('{"inputs": []}'), undefined)).toBeUndefined();
  });
});
