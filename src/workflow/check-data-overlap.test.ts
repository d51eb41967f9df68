import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../../test/fixtures/temp-dir.js";
import { openDataset } from "../datasets/open-dataset.js";
import { sameDataWarning } from "./check-data-overlap.js";

const temp = useTempDir("overlap-");

async function data(name: string, value: number) {
  const path = temp.join(name);
  await writeFile(path, `${JSON.stringify({ inputs: { x: [[value]] } })}\n`);
  return openDataset(path);
}

describe("sameDataWarning", () => {
  it("warns when calibration and evaluation are the same samples, even from two files, and not otherwise", async () => {
    expect(await sameDataWarning(await data("calibration.jsonl", 1), await data("eval-copy.jsonl", 1))).toMatch(/are the same samples: calibrated candidates .* graded on the data they were tuned on/);
    expect(await sameDataWarning(await data("calibration.jsonl", 1), await data("held-out.jsonl", 2))).toBeUndefined();
    expect(await sameDataWarning(await data("calibration.jsonl", 1), undefined)).toBeUndefined();
  });
});
