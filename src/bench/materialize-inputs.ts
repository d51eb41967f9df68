import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { EdgeforgeError } from "../core/errors.js";
import { openDataset, type OpenDatasetOptions } from "../datasets/open-dataset.js";
import { writeNpy } from "../datasets/npy.js";

export interface MaterializedInputs {
  folder: string;
  count: number;
  dispose(): Promise<void>;
}

/**
 * Decode up to `limit` dataset samples once, in the parent, into .npy files plus a manifest:
 * every child then measures identical bytes, and a corrupt dataset fails the run before any
 * model is loaded.
 */
export async function materializeInputs(path: string, options: OpenDatasetOptions & { limit: number }): Promise<MaterializedInputs> {
  const dataset = await openDataset(path, options);
  const folder = await mkdtemp(join(tmpdir(), "edgeforge-bench-inputs-"));
  try {
    const lines: string[] = [];
    let index = 0;
    for await (const sample of dataset.samples(options.signal)) {
      if (index >= options.limit) break;
      const files: Record<string, string> = {};
      let position = 0;
      for (const [name, tensor] of Object.entries(sample.inputs)) {
        const file = `${index}/${position}.npy`;
        await writeNpy(join(folder, file), tensor, options.signal);
        files[name] = file;
        position += 1;
      }
      lines.push(JSON.stringify({ id: sample.id, files }));
      index += 1;
    }
    if (index === 0) throw new EdgeforgeError("DATASET_INVALID", `${path} has no samples`, { hint: "add samples to the dataset" });
    await writeFileAtomic(join(folder, "manifest.jsonl"), `${lines.join("\n")}\n`);
    return { folder, count: index, dispose: () => rm(folder, { recursive: true, force: true }) };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}
