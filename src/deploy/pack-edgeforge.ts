import { access, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EdgeforgeError } from "../core/errors.js";
import { spawnCapture } from "../core/spawn-capture.js";

// A build of the checkout takes tens of seconds on 2 cores; ten minutes means it hangs.
const npmTimeoutMs = 10 * 60_000;

/** The running edgeforge's package root: two levels up from both src/deploy and dist/deploy. */
export const edgeforgePackageRoot = fileURLToPath(new URL("../../", import.meta.url));

/** npm build/pack of the checkout; a failure is the packaging's error, with the way around it. */
async function runTool(command: string, args: string[], cwd: string, signal?: AbortSignal): Promise<string> {
  const result = await spawnCapture(command, args, { cwd, timeoutMs: npmTimeoutMs, maxBufferBytes: 16 << 20, ...(signal ? { signal } : {}) });
  signal?.throwIfAborted();
  if (result.ok) return result.stdout;
  throw new EdgeforgeError("FILE_WRITE_FAILED", `\`${command} ${args.join(" ")}\` in ${cwd} failed: ${(result.stderr || result.reason).trim().split("\n").slice(-3).join(" ")}`, {
    hint: "give an edgeforge tarball with --edgeforge-tarball FILE (`npm pack` in an edgeforge checkout)",
  });
}

async function newestModifiedMs(folder: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * Whether dist/ must be (re)built before packing: when this code runs from src/ (tsx, vitest) and
 * dist/ is missing or older than a source file. Run from dist/, dist/ is what runs.
 */
async function distIsStale(root: string): Promise<boolean> {
  if (!import.meta.url.includes("/src/deploy/")) return false;
  const entry = join(root, "dist", "cli", "main.js");
  const built = await stat(entry).then((s) => s.mtimeMs, () => undefined);
  return built === undefined || (await newestModifiedMs(join(root, "src"))) > built;
}

/**
 * An `npm pack` tarball of the running edgeforge (its package.json `files`: dist and data), written
 * into `destination`; dist/ is built first when it is missing or older than the sources. Lifecycle
 * scripts are not run (`prepare` would build again). Returns the tarball's path.
 */
export async function packEdgeforge(destination: string, signal?: AbortSignal): Promise<string> {
  const root = edgeforgePackageRoot;
  if (await distIsStale(root)) await runTool("npm", ["run", "build"], root, signal);
  await access(join(root, "dist", "cli", "main.js")).catch((error: unknown) => {
    throw new EdgeforgeError("FILE_NOT_FOUND", `edgeforge at ${root} has no dist/cli/main.js to pack`, { hint: "run `npm run build` there, or give --edgeforge-tarball FILE", cause: error });
  });
  const output = await runTool("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], root, signal);
  const packed = (JSON.parse(output) as Array<{ filename: string }>)[0];
  if (!packed) throw new EdgeforgeError("INTERNAL", `npm pack in ${root} named no tarball`, { hint: "give --edgeforge-tarball FILE" });
  return join(destination, packed.filename);
}
