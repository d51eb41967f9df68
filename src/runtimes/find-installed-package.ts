import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Find an npm package the way Node resolves it (node_modules folders from here upwards) without
 * loading it: native engines must not be loaded just to learn whether they are installed.
 */
export async function findInstalledPackage(packageName: string, fromUrl: string = import.meta.url): Promise<{ version: string; directory: string } | undefined> {
  let directory = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(directory, "node_modules", packageName);
    try {
      const manifest = JSON.parse(await readFile(join(candidate, "package.json"), "utf8")) as { version?: unknown };
      return { version: typeof manifest.version === "string" ? manifest.version : "unknown", directory: candidate };
    } catch {
      // Not here (or unreadable): keep walking up, as Node's resolver does.
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}
