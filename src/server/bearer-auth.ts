import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../core/errors.js";

/** Env variable holding bearer tokens, comma-separated (kept out of argv, where `ps` shows it). */
export const tokensEnvVariable = "EDGEFORGE_SERVE_TOKENS";

/** Tokens from a file (one a line, # comments) and the environment. Never logged. */
export async function readBearerTokens(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const tokens: string[] = [];
  if (tokenFile) {
    let text: string;
    try {
      text = await readFile(tokenFile, "utf8");
    } catch (error) {
      throw fileError(error, tokenFile, "read");
    }
    for (const line of text.split(/\r?\n/)) {
      const token = line.trim();
      if (token && !token.startsWith("#")) tokens.push(token);
    }
    if (tokens.length === 0) throw new EdgeforgeError("INVALID_OPTION", `token file ${tokenFile} holds no tokens`, { hint: "write one token per line" });
  }
  for (const token of (env[tokensEnvVariable] ?? "").split(",")) if (token.trim()) tokens.push(token.trim());
  for (const token of tokens) {
    if (token.length < 16) throw new EdgeforgeError("INVALID_OPTION", "a bearer token is shorter than 16 characters", { hint: "use long random tokens, e.g. `openssl rand -hex 32`" });
  }
  return tokens;
}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Check an Authorization header against the tokens in constant time: both sides are hashed to
 * equal-length digests and every token is compared, so timing reveals neither length nor match position.
 */
export function createBearerCheck(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const digests = tokens.map(digest);
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    const presented = digest(match?.[1] ?? "");
    let ok = false;
    for (const candidate of digests) ok = timingSafeEqual(candidate, presented) || ok;
    return ok && match !== null;
  };
}
