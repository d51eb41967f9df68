import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { BenchProvenance } from "../reports/bench-record.js";

const execFileAsync = promisify(execFile);
const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The git commit of the edgeforge checkout, when it is one and git is installed. */
export async function readGitRevision(): Promise<{ revision: string | null; note?: string }> {
  try {
    const { stdout } = await execFileAsync("git", ["rev-parse", "HEAD"], { cwd: packageRoot, timeout: 3000 });
    const revision = stdout.trim();
    if (!/^[0-9a-f]{40,64}$/.test(revision)) return { revision: null, note: "git rev-parse printed no commit" };
    const { stdout: status } = await execFileAsync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: packageRoot, timeout: 3000 });
    return { revision, ...(status.trim() ? { note: "working tree has uncommitted changes" } : {}) };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { revision: null, note: missing ? "git is not installed" : "not a git checkout, or it has no commits yet" };
  }
}

async function readEdgeforgeVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export async function readProvenance(runtimeVersions: Record<string, string>): Promise<BenchProvenance> {
  const cpuList = cpus();
  const edgeforgeVersion = await readEdgeforgeVersion();
  const git = await readGitRevision();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    logicalCores: cpuList.length,
    availableParallelism: availableParallelism(),
    totalMemoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    nodeVersion: process.version,
    edgeforgeVersion,
    gitRevision: git.revision,
    ...(git.note ? { gitRevisionNote: git.note } : {}),
    loadAverage: loadavg(),
    runtimeVersions,
  };
}
