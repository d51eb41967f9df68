import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { fileError } from "./errors.js";

export async function hashFileSha256(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
    }
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return hash.digest("hex");
}

export function hashSha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Stable JSON (sorted keys) so equal objects hash equal. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
}
