import { readdir, readFile } from "node:fs/promises";

/**
 * Hardware facts live in files that may be absent (containers, other OSes) or unreadable; a
 * missing fact is "unknown", so these readers return undefined (or the errno) instead of throwing.
 */
export type TextRead = { ok: true; text: string } | { ok: false; errno: string };

export async function readSystemText(path: string, signal?: AbortSignal): Promise<TextRead> {
  try {
    return { ok: true, text: await readFile(path, { encoding: "utf8", signal }) };
  } catch (error) {
    signal?.throwIfAborted();
    return { ok: false, errno: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

export async function readOptionalText(path: string, signal?: AbortSignal): Promise<string | undefined> {
  const read = await readSystemText(path, signal);
  return read.ok ? read.text : undefined;
}

export async function readOptionalDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}
