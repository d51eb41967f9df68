import { describe, expect, it } from "vitest";
import { bisectFewest } from "./bisect-fewest.js";

/** A search whose answer is known: counts from `threshold` up pass. Records the counts probed. */
function thresholdSearch(threshold: number, budget = Infinity) {
  const probed: number[] = [];
  const passes = async (count: number) => {
    probed.push(count);
    return count >= threshold;
  };
  return { probed, passes, canProbe: () => probed.length < budget };
}

describe("bisectFewest", () => {
  it("finds the smallest passing count in ⌈log₂ n⌉ probes without probing the assumed upper bound", async () => {
    for (const threshold of [1, 37, 126, 200, 251]) {
      const search = thresholdSearch(threshold);
      expect(await bisectFewest(0, 252, search.passes, search.canProbe)).toBe(threshold);
      expect(search.probed.length).toBeLessThanOrEqual(Math.ceil(Math.log2(252)));
      expect(search.probed).not.toContain(252);
    }
  });

  it("probes the upper bound only when nothing below it passes, and reports when that fails too", async () => {
    const justUpper = thresholdSearch(252);
    expect(await bisectFewest(0, 252, justUpper.passes, justUpper.canProbe)).toBe(252);
    expect(justUpper.probed.at(-1)).toBe(252);
    const none = thresholdSearch(1000);
    expect(await bisectFewest(0, 252, none.passes, none.canProbe)).toBeUndefined();
    expect(await bisectFewest(5, 5, none.passes, none.canProbe)).toBeUndefined();
  });

  it("stops at the budget with the best count seen so far", async () => {
    const search = thresholdSearch(37, 3);
    // 126 passes, 63 passes, 31 fails: the budget ends the search at 63.
    expect(await bisectFewest(0, 252, search.passes, search.canProbe)).toBe(63);
    expect(search.probed).toEqual([126, 63, 31]);
  });
});
