import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The installed version of a package: node_modules/<name>/package.json in this file's folder or an ancestor, as Node resolves packages. */
export async function readPackageVersion(name: string): Promise<string | undefined> {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(folder, "node_modules", name, "package.json"), "utf8")) as { version?: string };
      return manifest.version;
    } catch {
      // not installed at this level: keep walking up
    }
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}
