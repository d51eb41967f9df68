import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createBearerCheck, readBearerTokens } from "./bearer-auth.js";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";

const token = "0123456789abcdef-token";

describe("bearer auth", () => {
  it("accepts exactly the configured tokens in an Authorization: Bearer header", () => {
    const check = createBearerCheck([token, "another-token-0123456789"]);
    expect(check(`Bearer ${token}`)).toBe(true);
    expect(check(`bearer ${token}`)).toBe(true);
    expect(check("Bearer another-token-0123456789")).toBe(true);
    expect(check(`Bearer ${token}x`)).toBe(false);
    expect(check(token)).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(check("Bearer ")).toBe(false);
    expect(createBearerCheck([])(`Bearer ${token}`)).toBe(false);
  });

  it("reads tokens from a file (comments skipped) and the environment, and refuses short ones", async () => {
    const folder = await makeTempDir("auth-");
    try {
      const file = join(folder, "tokens");
      await writeFile(file, `# ops\n${token}\n\n`);
      expect(await readBearerTokens(file, { EDGEFORGE_SERVE_TOKENS: "env-token-0123456789, " })).toEqual([token, "env-token-0123456789"]);
      await writeFile(file, "short\n");
      await expect(readBearerTokens(file, {})).rejects.toMatchObject({ code: "INVALID_OPTION" });
      await expect(readBearerTokens(join(folder, "missing"), {})).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
      expect(await readBearerTokens(undefined, {})).toEqual([]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
