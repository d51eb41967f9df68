import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { featuresFromLinuxFlags, featuresFromSysctl, parseSysctl } from "./cpu-features.js";
import { cpuInfoFromSysctl } from "./read-cpu-info.js";

const sysctlM2 = readFileSync(new URL("../../test/fixtures/hardware/sysctl-apple-m2.txt", import.meta.url), "utf8");

describe("featuresFromLinuxFlags", () => {
  it("maps 32-bit ARM 'neon' and arm64 'asimd' to the same feature", () => {
    expect(featuresFromLinuxFlags(["half", "thumb", "neon", "vfpv4"])).toEqual(["neon"]);
    expect(featuresFromLinuxFlags(["fp", "asimd"])).toEqual(["neon"]);
  });

  it("counts fp16 only for SIMD half-precision arithmetic (asimdhp), not scalar fphp", () => {
    expect(featuresFromLinuxFlags(["asimd", "fphp"])).toEqual(["neon"]);
    expect(featuresFromLinuxFlags(["asimd", "fphp", "asimdhp"])).toEqual(["neon", "fp16"]);
  });

  it("returns features in a stable order whatever the flag order", () => {
    expect(featuresFromLinuxFlags(["amx_int8", "avx2", "sse4_2"])).toEqual(["sse4.2", "avx2", "amx_int8"]);
  });
});

describe("macOS sysctl", () => {
  it("parses key: value lines", () => {
    const values = parseSysctl(sysctlM2);
    expect(values.get("hw.memsize")).toBe("8589934592");
    expect(values.get("machdep.cpu.brand_string")).toBe("Apple M2");
  });

  it("finds an M2's NEON, dot-product, i8mm, FP16 and BF16, and no SVE", () => {
    expect(featuresFromSysctl(parseSysctl(sysctlM2))).toEqual(["neon", "dotprod", "i8mm", "fp16", "bf16"]);
  });

  it("describes the CPU from sysctl, taking caches from the performance cluster", () => {
    const cpu = cpuInfoFromSysctl(parseSysctl(sysctlM2));
    expect(cpu.vendor).toBe("apple");
    expect(cpu.model).toBe("Apple M2");
    expect(cpu.physicalCores).toBe(8);
    expect(cpu.logicalThreads).toBe(8);
    expect(cpu.featureSource).toBe("sysctl");
    expect(cpu.caches).toEqual([
      { level: 1, type: "data", sizeBytes: 131072 },
      { level: 1, type: "instruction", sizeBytes: 196608 },
      { level: 2, type: "unified", sizeBytes: 16777216 },
    ]);
  });

  it("reports unknown rather than guessing when sysctl printed nothing", () => {
    const cpu = cpuInfoFromSysctl(new Map());
    expect(cpu.featureSource).toBe("unknown");
    expect(cpu.features).toEqual([]);
    expect(cpu.physicalCores).toBe("unknown");
    expect(cpu.vendor).toBe("unknown");
  });
});
