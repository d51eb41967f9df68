import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { edgeforgeVersion } from "../core/edgeforge-version.js";
import { spawnCapture } from "../core/spawn-capture.js";
import type { BenchProvenance } from "../reports/bench-record.js";

const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The git commit of the edgeforge checkout, when it is one and git is installed. */
export async function readGitRevision(): Promise<{ revision: string | null; note?: string }> {
  const head = await spawnCapture("git", ["rev-parse", "HEAD"], { cwd: packageRoot, timeoutMs: 3000 });
  if (!head.ok) return { revision: null, note: head.missing ? "git is not installed" : "not a git checkout, or it has no commits yet" };
  const revision = head.stdout.trim();
  if (!/^[0-9a-f]{40,64}$/.test(revision)) return { revision: null, note: "git rev-parse printed no commit" };
  const status = await spawnCapture("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: packageRoot, timeoutMs: 3000 });
  if (!status.ok) return { revision, note: `git status failed: ${status.reason}` };
  return { revision, ...(status.stdout.trim() ? { note: "working tree has uncommitted changes" } : {}) };
}

export async function readProvenance(runtimeVersions: Record<string, string>): Promise<BenchProvenance> {
  const cpuList = cpus();
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
