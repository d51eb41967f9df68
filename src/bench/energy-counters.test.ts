import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { measureEnergy, probeNvidiaSmi, probeRapl } from "./energy-counters.js";
import { parseVmHwmBytes } from "./read-peak-rss.js";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";

const root = makeTempDir("powercap-");
afterAll(async () => rm(await root, { recursive: true, force: true }));

describe("probeRapl", () => {
  it("says why when there are no counters", async () => {
    const probe = await probeRapl(join(await root, "absent"));
    expect(probe).toEqual({ available: false, reason: expect.stringContaining("absent") });
  });

  it("sums package domains and handles a counter wrapping around", async () => {
    const dir = await root;
    for (const [name, energy] of [
      ["intel-rapl:0", 999_000_000],
      ["intel-rapl:1", 5_000_000],
    ] as const) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, "energy_uj"), `${energy}\n`);
      await writeFile(join(dir, name, "max_energy_range_uj"), "1000000000\n");
    }
    // A sub-domain (core) must not be double counted.
    await mkdir(join(dir, "intel-rapl:0:0"), { recursive: true });
    const probe = await probeRapl(dir);
    expect(probe.available).toBe(true);
    const { reading } = await measureEnergy(
      probe,
      async () => {
        await writeFile(join(dir, "intel-rapl:0", "energy_uj"), "1000000\n");
        await writeFile(join(dir, "intel-rapl:1", "energy_uj"), "7000000\n");
        return 4;
      },
      (runs) => runs,
    );
    // package 0: 999 J → wraps at 1000 J → 1 J = 2 J; package 1: 2 J.
    expect(reading).toMatchObject({ available: true, source: "rapl" });
    if (reading.available) {
      expect(reading.joules).toBeCloseTo(4, 9);
      expect(reading.joulesPerInference).toBeCloseTo(1, 9);
    }
  });
});

describe("probeNvidiaSmi", () => {
  it("reports a missing nvidia-smi as unavailable with the reason", async () => {
    const probe = await probeNvidiaSmi("edgeforge-no-such-nvidia-smi");
    expect(probe).toEqual({ available: false, reason: expect.stringContaining("not found") });
  });
});

describe("parseVmHwmBytes", () => {
  it("reads the peak resident set from /proc status text", () => {
    expect(parseVmHwmBytes("Name:\tnode\nVmPeak:\t  900 kB\nVmHWM:\t    2052 kB\nVmRSS:\t 1000 kB\n")).toBe(2052 * 1024);
    expect(parseVmHwmBytes("Name:\tnode\n")).toBeUndefined();
  });
});
