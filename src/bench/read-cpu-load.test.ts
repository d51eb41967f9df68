import { describe, expect, it } from "vitest";
import { busyCoresBetween, parseProcStat, summarizeCpuLoad } from "./read-cpu-load.js";

describe("CPU load", () => {
  it("parses the aggregate /proc/stat line and counts busy cores between two readings", () => {
    const before = parseProcStat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5\n");
    const after = parseProcStat("cpu  200 0 100 850 50 0 0 0 0 0\n");
    expect(before).toEqual({ busy: 150, total: 1000 });
    expect(after).toEqual({ busy: 300, total: 1200 });
    // 150 busy of 200 jiffies on 2 cores = 1.5 cores busy (exact).
    expect(busyCoresBetween(before as never, after as never, 2)).toBe(1.5);
    expect(parseProcStat("garbage")).toBeUndefined();
  });

  it("calls a half-busy machine oversubscribed and leaves at least one free core", () => {
    expect(summarizeCpuLoad(2, 1.5, 2.1, 500)).toMatchObject({ freeCores: 1, oversubscribed: true });
    expect(summarizeCpuLoad(2, 0.1, 0.2, 500)).toMatchObject({ freeCores: 2, oversubscribed: false });
    expect(summarizeCpuLoad(8, 3.2, undefined, 500)).toMatchObject({ freeCores: 5, oversubscribed: false });
    expect(summarizeCpuLoad(2, 2, undefined, 500).freeCores).toBe(1);
  });
});
