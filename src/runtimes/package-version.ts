import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The installed version of a package, found by walking up from its resolved entry point. */
export async function readPackageVersion(name: string): Promise<string | undefined> {
  let folder: string;
  try {
    folder = dirname(fileURLToPath(import.meta.resolve(name)));
  } catch {
    return undefined;
  }
  for (let depth = 0; depth < 6; depth += 1) {
    try {
      const manifest = JSON.parse(await readFile(join(folder, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version;
    } catch {
      // no package.json at this level: keep walking up
    }
    folder = dirname(folder);
  }
  return undefined;
}
