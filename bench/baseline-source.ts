import { execFileSync } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** The src/ of a git commit, extracted into `dir` beside a node_modules link so that tsx runs it like this checkout. */
export async function extractBaseline(ref: string, dir: string): Promise<{ root: string; commit: string }> {
  const root = join(dir, "baseline");
  await mkdir(root);
  const commit = execFileSync("git", ["rev-parse", ref], { cwd: repoRoot, encoding: "utf8" }).trim();
  execFileSync("sh", ["-c", `git archive ${commit} src package.json tsconfig.json | tar -x -C "${root}"`], { cwd: repoRoot });
  await symlink(join(repoRoot, "node_modules"), join(root, "node_modules"));
  return { root, commit };
}
