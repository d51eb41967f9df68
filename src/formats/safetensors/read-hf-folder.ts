import { readdir, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { openByteSource } from "../../core/byte-source.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import { readSafetensorsHeader, type SafetensorsHeader } from "./read-safetensors.js";

/** A Hugging Face (or MLX) model folder: its config and the safetensors shards that hold its weights. */
export interface HfModelFolder {
  path: string;
  /** config.json, parsed; undefined when absent (a lone .safetensors file without a sibling config). */
  config?: Record<string, unknown>;
  /** The index file used to find shards, if any (relative to the folder). */
  indexFile?: string;
  shards: SafetensorsHeader[];
}

const maxJsonBytes = 64 << 20;
const indexSuffix = ".safetensors.index.json";

/** Read a small JSON file (config, index), bounded in size before it is read. */
export async function readJsonFile(path: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  signal?.throwIfAborted();
  await using source = await openByteSource(path);
  if (source.sizeBytes > maxJsonBytes) {
    throw new EdgeforgeError("LIMIT_EXCEEDED", `${path} is ${source.sizeBytes} bytes; JSON model files over 64 MiB are not read`, {
      hint: "check that this is really a config or index file",
      details: { path, sizeBytes: source.sizeBytes },
    });
  }
  const text = new TextDecoder().decode(await source.read(0, source.sizeBytes));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EdgeforgeError("CORRUPT_MODEL", `${path} is not valid JSON`, { hint: "fix or re-download the file", details: { path }, cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new EdgeforgeError("CORRUPT_MODEL", `${path} is not a JSON object`, { hint: "fix or re-download the file", details: { path } });
  }
  return parsed as Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolve a shard name from an index inside `folder`, refusing names that escape it. */
function shardPath(folder: string, name: unknown, indexPath: string): string {
  const full = typeof name === "string" && name.length > 0 ? resolve(folder, name) : undefined;
  const inside = full !== undefined && full.startsWith(resolve(folder) + sep);
  if (!full || !inside) {
    throw new EdgeforgeError("UNSAFE_PATH", `${indexPath} names shard ${JSON.stringify(name)}, which is not a file inside the model folder`, {
      hint: "shard names in weight_map must be plain file names inside the folder",
      details: { indexPath, shard: name },
    });
  }
  return full;
}

/** Find shards via the index's weight_map (checking every listed tensor is where it says), else every *.safetensors file. */
export async function readHfModelFolder(folder: string, signal?: AbortSignal): Promise<HfModelFolder> {
  let names: string[];
  try {
    names = (await readdir(folder)).sort();
  } catch (error) {
    throw fileError(error, folder, "read");
  }
  const configPath = join(folder, "config.json");
  const config = names.includes("config.json") ? await readJsonFile(configPath, signal) : undefined;
  const indexName = names.includes(`model${indexSuffix}`) ? `model${indexSuffix}` : names.find((name) => name.endsWith(indexSuffix));
  if (indexName === undefined) {
    const files = names.filter((name) => name.endsWith(".safetensors"));
    if (files.length === 0) {
      throw new EdgeforgeError("UNKNOWN_FORMAT", `${folder} holds no .safetensors files`, {
        hint: "pass a Hugging Face or MLX folder with its *.safetensors weights, or the model file itself",
        details: { path: folder },
      });
    }
    const shards: SafetensorsHeader[] = [];
    for (const file of files) shards.push(await readSafetensorsHeader(join(folder, file), { signal }));
    return { path: folder, ...(config ? { config } : {}), shards };
  }
  const indexPath = join(folder, indexName);
  const index = await readJsonFile(indexPath, signal);
  const weightMap = index.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new EdgeforgeError("CORRUPT_MODEL", `${indexPath} has no weight_map object`, { hint: "re-download the index file", details: { path: indexPath } });
  }
  const entries = Object.entries(weightMap as Record<string, unknown>);
  const shardFiles = [...new Set(entries.map(([, shard]) => shardPath(folder, shard, indexPath)))].sort();
  const shards: SafetensorsHeader[] = [];
  for (const file of shardFiles) shards.push(await readSafetensorsHeader(file, { signal }));
  const tensorsByShard = new Map(shards.map((shard) => [shard.path, new Set(shard.tensors.map((tensor) => tensor.name))]));
  for (const [tensor, shard] of entries) {
    if (!tensorsByShard.get(shardPath(folder, shard, indexPath))?.has(tensor)) {
      throw new EdgeforgeError("CORRUPT_MODEL", `${indexPath} puts tensor "${tensor}" in ${String(shard)}, which does not hold it`, {
        hint: "the index and the shards disagree; re-download the model",
        details: { path: indexPath, tensor, shard },
      });
    }
  }
  return { path: folder, ...(config ? { config } : {}), indexFile: indexName, shards };
}

/** A lone .safetensors file, with its sibling config.json when there is one (for architecture and KV figures). */
export async function readSafetensorsFileWithConfig(path: string, signal?: AbortSignal): Promise<HfModelFolder> {
  const header = await readSafetensorsHeader(path, { signal });
  const configPath = join(dirname(path), "config.json");
  const config = (await exists(configPath)) ? await readJsonFile(configPath, signal) : undefined;
  return { path, ...(config ? { config } : {}), shards: [header] };
}
