import { cpus, totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { detectHardware } from "./detect-hardware.js";
import { cpuFeatures } from "./hardware-report.js";

describe("detectHardware on this machine", () => {
  it("reports sane, self-consistent figures without throwing", async () => {
    const report = await detectHardware();
    expect(report.os.platform).toBe(process.platform);
    expect(report.cpu.architecture).toBe(process.arch);
    expect(report.cpu.logicalThreads).toBeGreaterThanOrEqual(1);
    expect(report.cpu.logicalThreads).toBe(cpus().length);
    if (report.cpu.physicalCores !== "unknown") {
      expect(report.cpu.physicalCores).toBeGreaterThanOrEqual(1);
      expect(report.cpu.physicalCores).toBeLessThanOrEqual(report.cpu.logicalThreads);
    }
    expect(report.memory.totalMemoryBytes).toBeGreaterThan(0);
    // /proc/meminfo and os.totalmem() read the same kernel figure.
    expect(report.memory.totalMemoryBytes).toBe(totalmem());
    expect(report.memory.availableMemoryBytes).toBeGreaterThan(0);
    expect(report.memory.availableMemoryBytes).toBeLessThanOrEqual(report.memory.totalMemoryBytes);
    for (const feature of report.cpu.features) expect(cpuFeatures).toContain(feature);
    for (const cache of report.cpu.caches) expect(cache.sizeBytes).toBeGreaterThan(0);
  });

  it("stops when aborted before it starts", async () => {
    await expect(detectHardware({ signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
