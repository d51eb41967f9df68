import { stat } from "node:fs/promises";

/** Whether something is at `path` (file or folder); any error reading it counts as not there. */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
