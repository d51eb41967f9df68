import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { targetProfileFileSchema, type TargetProfile } from "./target-profile.js";

// data/ sits two levels above both src/hardware and dist/hardware.
const targetsDirUrl = new URL("../../data/targets/", import.meta.url);

export async function listTargetProfileNames(): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(targetsDirUrl);
  } catch (error) {
    throw fileError(error, fileURLToPath(targetsDirUrl), "read");
  }
  return entries
    .filter((entry) => entry.endsWith(".json"))
    .map((entry) => entry.slice(0, -".json".length))
    .sort();
}

function unknownTarget(name: string, known: readonly string[]): EdgeforgeError {
  return new EdgeforgeError("UNKNOWN_TARGET", `no target profile named "${name}"`, {
    hint: `use "local" (this machine) or one of: ${known.join(", ")}`,
    details: { name, known },
  });
}

/** Load and validate data/targets/<name>.json. */
export async function loadTargetProfile(name: string): Promise<TargetProfile> {
  const known = await listTargetProfileNames();
  if (!known.includes(name)) throw unknownTarget(name, known);
  const url = new URL(`${name}.json`, targetsDirUrl);
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(await readFile(url, "utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new EdgeforgeError("INVALID_CONFIG", `target profile ${name}.json is not valid JSON: ${error.message}`, {
        hint: "fix the file under data/targets/",
        details: { path: fileURLToPath(url) },
        cause: error,
      });
    }
    throw fileError(error, fileURLToPath(url), "read");
  }
  const result = targetProfileFileSchema.safeParse(parsedJson);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `target profile ${name}.json does not match its schema:\n${z.prettifyError(result.error)}`, {
      hint: "fix the file under data/targets/",
      details: { path: fileURLToPath(url), issues: result.error.issues },
    });
  }
  const profile = result.data;
  if (profile.name !== name) {
    throw new EdgeforgeError("INVALID_CONFIG", `target profile ${name}.json names itself "${profile.name}"`, {
      hint: "a profile's name must match its file name",
      details: { path: fileURLToPath(url) },
    });
  }
  if (profile.memoryBudgetBytes > profile.memoryBytes) {
    throw new EdgeforgeError("INVALID_CONFIG", `target profile ${name}: memoryBudgetBytes exceeds memoryBytes`, {
      hint: "the budget is the part of memory one model may use",
      details: { path: fileURLToPath(url) },
    });
  }
  return { ...profile, origin: "profile" };
}

/** Every shipped profile, validated, sorted by name. */
export async function listTargetProfiles(): Promise<TargetProfile[]> {
  return Promise.all((await listTargetProfileNames()).map((name) => loadTargetProfile(name)));
}
