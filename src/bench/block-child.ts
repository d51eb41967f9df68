import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EdgeforgeError, errorCodes, type ErrorCode } from "../core/errors.js";
import type { BlockReply, BlockRequest, BlocksJob } from "./bench-job.js";
import { pinnedCommand, writeProcessAffinity } from "./cpu-affinity.js";
import { benchChildPath } from "./spawn-bench-child.js";

type Reply<T extends BlockReply["type"]> = Extract<BlockReply, { type: T }>;

const stderrTailChars = 4096;

/** A long-lived measuring child in its own process, driven block by block over IPC. */
export class BlockChild {
  private readonly replies: BlockReply[] = [];
  private waiting: (() => void) | undefined;
  private exited = false;
  private stderr = "";

  private constructor(
    private readonly child: ChildProcess,
    private readonly folder: string,
    readonly label: string,
  ) {
    child.on("message", (reply: BlockReply) => {
      this.replies.push(reply);
      this.waiting?.();
    });
    const keep = (chunk: Buffer): void => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-stderrTailChars);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("exit", () => {
      this.exited = true;
      this.waiting?.();
    });
  }

  /** `cpus`: pinned to them from its first instruction (its blocks may be moved later with `pin`). */
  static async spawn(label: string, job: Omit<BlocksJob, "resultPath">, env?: NodeJS.ProcessEnv, cpus?: readonly number[]): Promise<BlockChild> {
    const folder = await mkdtemp(join(tmpdir(), "edgeforge-blocks-"));
    const jobPath = join(folder, "job.json");
    await writeFile(jobPath, JSON.stringify({ ...job, resultPath: join(folder, "unused.json") }));
    const [command, args] = pinnedCommand(process.execPath, [benchChildPath, jobPath], cpus);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe", "ipc"], env: env ?? process.env });
    return new BlockChild(child, folder, label);
  }

  private async next<T extends BlockReply["type"]>(type: T, timeoutMs: number): Promise<Reply<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.replies.shift();
      if (reply) {
        if (reply.type === "error") {
          const code = Object.hasOwn(errorCodes, reply.error.code) ? (reply.error.code as ErrorCode) : "MEASUREMENT_FAILED";
          throw new EdgeforgeError(code, `${this.label}: ${reply.error.message}`, {
            ...(reply.error.hint ? { hint: reply.error.hint } : {}),
            details: { arm: this.label },
          });
        }
        if (reply.type === type) return reply as Reply<T>;
        continue;
      }
      if (this.exited) throw this.failure("exited without answering");
      const left = deadline - Date.now();
      if (left <= 0) {
        this.child.kill("SIGKILL");
        throw this.failure(`did not answer within ${timeoutMs} ms and was killed`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = undefined;
    }
  }

  private failure(what: string): EdgeforgeError {
    const tail = this.stderr.trim().split("\n").slice(-3).join(" | ");
    return new EdgeforgeError("MEASUREMENT_FAILED", `the measuring process for ${this.label} ${what}${tail ? `: ${tail}` : ""}`, {
      hint: "run `edgeforge bench` on this model alone to see the full error",
      details: { arm: this.label, exitCode: this.child.exitCode, signal: this.child.signalCode },
    });
  }

  private send(request: BlockRequest): void {
    if (!this.exited && this.child.connected) this.child.send(request);
  }

  /** Pin every thread of the child to `cpus` before its next block (it is idle, waiting for the request). */
  async pin(cpus: readonly number[], signal?: AbortSignal): Promise<void> {
    if (this.exited || this.child.pid === undefined) throw this.failure("exited before it could be pinned");
    await writeProcessAffinity(this.child.pid, cpus, signal);
  }

  ready(timeoutMs: number): Promise<Reply<"ready">> {
    return this.next("ready", timeoutMs);
  }

  async block(request: Omit<Extract<BlockRequest, { type: "block" }>, "type">, timeoutMs: number): Promise<Reply<"block">> {
    this.send({ type: "block", ...request });
    return this.next("block", timeoutMs);
  }

  async finish(timeoutMs: number): Promise<Reply<"done">> {
    this.send({ type: "finish" });
    return this.next("done", timeoutMs);
  }

  /** Always called: kills a child that is still running and removes its job folder. */
  async dispose(): Promise<void> {
    if (!this.exited) this.child.kill("SIGKILL");
    await rm(this.folder, { recursive: true, force: true });
  }
}
