import { readFile } from "node:fs/promises";
import { EdgeforgeError, fileError } from "../core/errors.js";

/** A bearer token from `--token-file` (first non-comment line) or, without one, from the environment variable `envVariable`. */
export async function readClientToken(tokenFile: string | undefined, envVariable: string): Promise<string | undefined> {
  if (!tokenFile) return process.env[envVariable] || undefined;
  let text: string;
  try {
    text = await readFile(tokenFile, "utf8");
  } catch (error) {
    throw fileError(error, tokenFile, "read");
  }
  const token = text.split(/\r?\n/).map((line) => line.trim()).find((line) => line && !line.startsWith("#"));
  if (!token) throw new EdgeforgeError("INVALID_OPTION", `token file ${tokenFile} holds no token`, { hint: "write the token on the first line" });
  return token;
}
