import { readdir, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type { ModelFormat } from "../core/artifact.js";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { hashFileSha256, hashFolderSha256 } from "../core/hashing.js";
import { detectModelFormat } from "../formats/detect-format.js";
import type { BenchArtifact } from "../reports/bench-record.js";
import { runtimeCatalog, runtimeForFormat, type RuntimeId } from "../runtimes/catalog.js";

export type PlannedArtifact =
  | { ok: true; artifact: BenchArtifact; format: ModelFormat; runtime: RuntimeId }
  | { ok: false; artifact: BenchArtifact; runtime: string; error: EdgeforgeError };

/** Labels that tell artifacts apart: file names, or relative paths when names repeat. */
function labelsFor(paths: readonly string[]): string[] {
  const names = paths.map((path) => basename(path));
  return paths.map((path, index) => (names.filter((name) => name === names[index]).length > 1 ? relative(process.cwd(), path) || path : (names[index] as string)));
}

/**
 * Identify each model (format, size, sha256) and the runtime that will run it. A model that cannot
 * be identified becomes a failed entry so the others are still measured; a runtime that cannot
 * run a format at all is a usage error for the whole run.
 */
export async function planArtifacts(paths: readonly string[], runtime: RuntimeId | undefined, signal?: AbortSignal): Promise<PlannedArtifact[]> {
  const labels = labelsFor(paths);
  const planned: PlannedArtifact[] = [];
  for (const [index, path] of paths.entries()) {
    const label = labels[index] as string;
    try {
      const { format } = await detectModelFormat(path);
      const chosen = runtime ?? runtimeForFormat(format);
      if (!(runtimeCatalog[chosen].formats as readonly ModelFormat[]).includes(format)) {
        throw new EdgeforgeError("INVALID_OPTION", `runtime ${chosen} does not run ${format} models (${path})`, {
          hint: `${chosen} reads ${runtimeCatalog[chosen].formats.join(", ")}; bench ${format} models with --runtime ${runtimeForFormat(format)}, or leave --runtime out`,
          details: { path, format, runtime: chosen },
        });
      }
      let sizeBytes: number;
      let isFolder: boolean;
      try {
        const info = await stat(path);
        isFolder = info.isDirectory();
        // A folder artifact (MLX, Hugging Face) weighs what its files weigh.
        sizeBytes = isFolder ? (await Promise.all((await readdir(path, { withFileTypes: true })).filter((e) => e.isFile()).map(async (e) => (await stat(join(path, e.name))).size))).reduce((a, b) => a + b, 0) : info.size;
      } catch (error) {
        throw fileError(error, path, "read");
      }
      const sha256 = isFolder ? await hashFolderSha256(path, signal) : await hashFileSha256(path, signal);
      planned.push({ ok: true, artifact: { label, path, format, sizeBytes, sha256 }, format, runtime: chosen });
    } catch (error) {
      if (EdgeforgeError.isInstance(error) && error.code === "INVALID_OPTION") throw error;
      const wrapped = EdgeforgeError.isInstance(error)
        ? error
        : new EdgeforgeError("MEASUREMENT_FAILED", `cannot plan ${path}: ${(error as Error).message}`, { cause: error });
      planned.push({ ok: false, artifact: { label, path, format: "unknown", sizeBytes: 0, sha256: "" }, runtime: runtime ?? "unknown", error: wrapped });
    }
  }
  return planned;
}
