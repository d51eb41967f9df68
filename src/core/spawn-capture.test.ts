import { describe, expect, it } from "vitest";
import { spawnCapture } from "./spawn-capture.js";

const node = process.execPath;

describe("spawnCapture", () => {
  it("captures both streams of a tool that succeeds", async () => {
    const result = await spawnCapture(node, ["-e", "process.stdout.write('out'); process.stderr.write('err')"], { timeoutMs: 30_000 });
    expect(result).toEqual({ ok: true, stdout: "out", stderr: "err" });
  });

  it("returns a failing tool's exit status and its last stderr line as the reason", async () => {
    const result = await spawnCapture(node, ["-e", "console.log('partial'); console.error('first\\nthe real error'); process.exit(3)"], { timeoutMs: 30_000 });
    expect(result).toMatchObject({ ok: false, missing: false, exitCode: 3, stdout: "partial\n", reason: expect.stringMatching(/failed: the real error$/) });
  });

  it("says a missing binary is missing", async () => {
    const result = await spawnCapture("edgeforge-no-such-tool", [], { timeoutMs: 30_000 });
    expect(result).toMatchObject({ ok: false, missing: true, reason: "edgeforge-no-such-tool not found" });
  });

  it("kills a tool past its time limit and says so", async () => {
    const result = await spawnCapture(node, ["-e", "setTimeout(() => {}, 60_000)"], { timeoutMs: 200 });
    expect(result).toMatchObject({ ok: false, missing: false, reason: expect.stringContaining("timed out after 200 ms") });
  });

  it("runs in the folder it is given", async () => {
    const result = await spawnCapture(node, ["-e", "process.stdout.write(process.cwd())"], { timeoutMs: 30_000, cwd: "/" });
    expect(result).toMatchObject({ ok: true, stdout: "/" });
  });
});
