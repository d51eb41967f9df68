import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { listTargetProfileNames, listTargetProfiles, loadTargetProfile } from "./load-target-profile.js";

const requiredProfiles = [
  "android-snapdragon-8-gen-3",
  "apple-m2-8gb",
  "intel-core-ultra-npu",
  "iphone-15-pro",
  "jetson-orin-nano-8gb",
  "raspberry-pi-5-8gb",
  "x86-avx512-server",
];

describe("target profiles", () => {
  it("ships every required profile as data", async () => {
    expect(await listTargetProfileNames()).toEqual(expect.arrayContaining(requiredProfiles));
  });

  it("validates every shipped profile against the schema, with a budget inside memory", async () => {
    const profiles = await listTargetProfiles();
    expect(profiles.length).toBeGreaterThanOrEqual(requiredProfiles.length);
    for (const profile of profiles) {
      expect(profile.origin).toBe("profile");
      expect(profile.memoryBudgetBytes).toBeLessThanOrEqual(profile.memoryBytes);
      expect(profile.sources.length).toBeGreaterThan(0);
      expect(profile.cpu.threads).toBeGreaterThanOrEqual(profile.cpu.cores);
    }
  });

  it("carries the public specs of a Raspberry Pi 5", async () => {
    const pi = await loadTargetProfile("raspberry-pi-5-8gb");
    expect(pi.cpu).toMatchObject({ arch: "arm64", cores: 4, threads: 4 });
    expect(pi.cpu.features).toEqual(["neon", "dotprod", "fp16"]);
    expect(pi.memoryBytes).toBe(8 * 1024 ** 3);
    expect(pi.accelerators.filter((accelerator) => accelerator.kind === "npu")).toEqual([]);
  });

  it("gives AVX-512 and AMX to the server and AVX-VNNI without AVX-512 to Meteor Lake", async () => {
    const server = await loadTargetProfile("x86-avx512-server");
    expect(server.cpu.features).toEqual(expect.arrayContaining(["avx512f", "avx512_vnni", "amx_int8"]));
    const laptop = await loadTargetProfile("intel-core-ultra-npu");
    expect(laptop.cpu.features).toContain("avx_vnni");
    expect(laptop.cpu.features.some((feature) => feature.startsWith("avx512"))).toBe(false);
    expect(laptop.accelerators.some((accelerator) => accelerator.kind === "npu" && accelerator.vendor === "intel")).toBe(true);
  });

  it("rejects an unknown name with UNKNOWN_TARGET and a hint listing the profiles", async () => {
    const failure = await loadTargetProfile("nope").catch((error: unknown) => error);
    expect(EdgeforgeError.isInstance(failure)).toBe(true);
    const error = failure as EdgeforgeError;
    expect(error.code).toBe("UNKNOWN_TARGET");
    expect(error.hint).toContain("raspberry-pi-5-8gb");
    expect(error.hint).toContain("local");
  });

  it("does not let a name escape the targets folder", async () => {
    await expect(loadTargetProfile("../targets/raspberry-pi-5-8gb")).rejects.toMatchObject({ code: "UNKNOWN_TARGET" });
  });
});
