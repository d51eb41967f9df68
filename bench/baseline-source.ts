import { execFileSync, fork, type ChildProcess } from "node:child_process";
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

/** The value after `name` on the command line. */
export function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A warm child running `childScript` from one source tree (this checkout or an extracted baseline). */
export interface Arm {
  label: string;
  child: ChildProcess;
}

/** Forks `childScript` with the source root as its argument and resolves once it says it is ready. */
export function startArm(label: string, childScript: URL, root: string): Promise<Arm> {
  const child = fork(fileURLToPath(childScript), [root], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve({ label, child }));
    child.once("exit", (code) => reject(new Error(`${label} child exited with ${code}`)));
  });
}
