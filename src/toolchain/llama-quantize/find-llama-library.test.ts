import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findLlamaLibrary } from "./find-llama-library.js";

describe("findLlamaLibrary", () => {
  it("finds libllama and its ggml libraries in node-llama-cpp's CPU package for this platform", async () => {
    const files = await findLlamaLibrary();
    expect(existsSync(files.libllama)).toBe(true);
    expect(files.dependencies.length).toBeGreaterThanOrEqual(2);
    expect(files.dependencies.every((path) => existsSync(path) && /ggml/.test(path))).toBe(true);
    expect(files.packageVersion).toBe("3.22.1");
    expect(files.llamaCppRelease).toBe("v0.5.0");
  });

  it("says clearly when no prebuilt llama.cpp exists for the platform (no fallback)", async () => {
    await expect(findLlamaLibrary("aix", "ppc64")).rejects.toMatchObject({ code: "RUNTIME_UNAVAILABLE", message: expect.stringContaining("aix-ppc64") });
  });
});
