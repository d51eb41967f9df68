import { access, copyFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../core/errors.js";
import { sharedModels } from "../../../test/fixtures/shared-models.js";
import { useTempDir } from "../../../test/fixtures/temp-dir.js";
import { checkGgufOutput } from "./check-gguf-output.js";

// The engine side (checkLlmRuns in llama.cpp) runs for real in the GGUF pass tests; here, what the pass does with its answer.
const temp = useTempDir("check-gguf-");

describe("checkGgufOutput", () => {
  it("removes an output llama.cpp does not run and says which step failed", async () => {
    const output = temp.join("written.gguf");
    await copyFile(sharedModels.stories260kGguf, output);
    const failing = { workDir: temp.path, checkLlmRuns: () => Promise.reject(new Error("GGML_ASSERT: bad tensor")) };
    const error = await checkGgufOutput(output, 512, failing).catch((e: unknown) => e);
    expect(EdgeforgeError.isInstance(error) && error.code).toBe("INTERNAL");
    expect((error as Error).message).toContain("does not run in llama.cpp: GGML_ASSERT: bad tensor");
    await expect(access(output)).rejects.toThrow();
  });

  it("passes a plausible perplexity through; above the vocabulary size (512 here) it warns", async () => {
    const output = temp.join("good.gguf");
    await copyFile(sharedModels.stories260kGguf, output);
    const warnings: string[] = [];
    const context = (perplexity: number) => ({
      workDir: temp.path,
      logger: { info: () => undefined, debug: () => undefined, warn: (message: string) => void warnings.push(message) },
      checkLlmRuns: () => Promise.resolve({ runtime: "llama-cpp", runtimeVersion: "3.22.1", perplexity, scoredTokens: 30 }),
    });
    expect(await checkGgufOutput(output, 512, context(2.2))).toBe("output loaded and run once in llama.cpp (node-llama-cpp 3.22.1): perplexity 2.200 on 30 tokens of a short English text (a sanity figure, not an evaluation)");
    expect(warnings).toEqual([]);
    expect(await checkGgufOutput(output, 512, context(9.8e4))).toContain("worse than guessing uniformly among its 512 tokens");
    expect(warnings).toHaveLength(1);
    expect(await checkGgufOutput(output, 512, { workDir: temp.path })).toBe("output not loaded in a runtime: the pass was given none");
  });
});
