import { spawnSync } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../../test/fixtures/temp-dir.js";
import { tempFileNamePattern, tempPathFor } from "./atomic-write.js";
import { EdgeforgeError } from "./errors.js";
import { claimOutputFolder, outputLockName, sweepStaleTempFiles } from "./output-folder.js";

const temp = useTempDir("output-folder-");

/** The id of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid as number;
}

describe("claimOutputFolder", () => {
  it("holds an exclusive lock: a second claim refuses with OUTPUT_LOCKED until the first is released", async () => {
    const folder = temp.join("locked");
    const first = await claimOutputFolder(folder, "optimize");
    const second = await claimOutputFolder(folder, "optimize").catch((error: unknown) => error);
    expect(EdgeforgeError.isInstance(second) && second.code).toBe("OUTPUT_LOCKED");
    expect((second as EdgeforgeError).hint).toContain("another output folder");
    await first.release();
    const third = await claimOutputFolder(folder, "optimize");
    expect(JSON.parse(await readFile(`${folder}/${outputLockName}`, "utf8")).pid).toBe(process.pid);
    await third.release();
    expect(await readdir(folder)).toEqual([]);
  });

  it("takes over the lock of a process that no longer exists", async () => {
    const folder = temp.join("stale");
    await claimOutputFolder(folder, "x").then((lock) => lock.release());
    await writeFile(`${folder}/${outputLockName}`, JSON.stringify({ pid: deadPid(), command: "optimize", startedAt: "earlier" }));
    const lock = await claimOutputFolder(folder, "optimize");
    await lock.release();
  });
});

describe("sweepStaleTempFiles", () => {
  it("removes the temp files of dead writers and keeps those of live ones and every other file", async () => {
    const folder = temp.join("sweep");
    await claimOutputFolder(folder, "x").then((lock) => lock.release());
    const live = tempPathFor(`${folder}/model.onnx`);
    const dead = live.replace(`.${process.pid}-`, `.${deadPid()}-`);
    for (const path of [live, dead, `${folder}/model.onnx`, `${folder}/.hidden.tmp`]) await writeFile(path, "x");
    expect(tempFileNamePattern.test(live.split("/").pop() as string)).toBe(true);
    const removed = await sweepStaleTempFiles(folder);
    expect(removed).toEqual([dead.split("/").pop()]);
    expect((await readdir(folder)).sort()).toEqual([".hidden.tmp", live.split("/").pop(), "model.onnx"].sort());
  });
});
