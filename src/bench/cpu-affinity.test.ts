import { describe, expect, it } from "vitest";
import { formatCpuList, parseCpuList, pinnedCommand, planRoundCpus } from "./cpu-affinity.js";

describe("CPU lists", () => {
  it("reads and writes the kernel's cpu-list format", () => {
    expect(parseCpuList("0-2,5")).toEqual([0, 1, 2, 5]);
    expect(parseCpuList("1\n")).toEqual([1]);
    expect(formatCpuList([5, 0, 2, 1])).toBe("0-2,5");
    expect(formatCpuList([3])).toBe("3");
    expect(() => parseCpuList("a-b")).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });

  it("starts a command pinned only when CPUs are given", () => {
    expect(pinnedCommand("node", ["child.js"], [0, 1])).toEqual(["taskset", ["-c", "0-1", "node", "child.js"]]);
    expect(pinnedCommand("node", ["child.js"], undefined)).toEqual(["node", ["child.js"]]);
  });
});

describe("planRoundCpus", () => {
  it("puts arms with as many threads on the same CPUs in a round, and moves them on every round", () => {
    const allowed = [0, 1];
    for (let round = 0; round < 4; round += 1) {
      // Two 1-thread arms (an input model and its candidate) share one CPU: their ratio compares like with like.
      expect(planRoundCpus(allowed, 1, round)).toEqual([round % 2]);
      // The runtime's default (every core) and 2 threads get both.
      expect(planRoundCpus(allowed, undefined, round)).toEqual([0, 1]);
      expect(planRoundCpus(allowed, 2, round)).toEqual([0, 1]);
    }
    expect(planRoundCpus([2, 3, 5], 2, 2)).toEqual([2, 5]);
    expect(planRoundCpus(allowed, 8, 0)).toEqual([0, 1]);
    expect(planRoundCpus([], 1, 0)).toEqual([]);
  });
});
