import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetSample } from "./dataset.js";
import { writeNpy } from "./npy.js";
import { openDataset } from "./open-dataset.js";
import { makeTempDir } from "../../test/fixtures/temp-dir.js";

let root: string;

async function collect(iterable: AsyncIterable<DatasetSample>): Promise<DatasetSample[]> {
  const out: DatasetSample[] = [];
  for await (const sample of iterable) out.push(sample);
  return out;
}

/** A solid-colour 4x2 PNG. */
async function writeSolidPng(path: string, rgb: [number, number, number]): Promise<void> {
  await sharp({ create: { width: 4, height: 2, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(path);
}

beforeAll(async () => {
  root = await makeTempDir("datasets-");
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe("image folders", () => {
  it("reads one sub-folder per class and normalises per the spec (NCHW, BGR; tolerance 1e-6)", async () => {
    const folder = join(root, "classes");
    await mkdir(join(folder, "cat"), { recursive: true });
    await mkdir(join(folder, "dog"), { recursive: true });
    await writeSolidPng(join(folder, "cat", "a.png"), [255, 0, 51]);
    await writeSolidPng(join(folder, "dog", "b.png"), [0, 102, 255]);
    const preprocess = { width: 2, height: 2, channels: "bgr", layout: "nchw", mean: [0.5], std: [0.5] };
    await writeFile(join(folder, "dataset.json"), JSON.stringify({ preprocess }));
    const dataset = await openDataset(folder);
    expect(dataset.size).toBe(2);
    expect(dataset.classNames).toEqual(["cat", "dog"]);
    const [cat, dog] = await collect(dataset.samples());
    expect(cat?.label).toBe(0);
    expect(dog?.label).toBe(1);
    const tensor = cat?.inputs.input;
    expect(tensor?.dims).toEqual([1, 3, 2, 2]);
    const data = tensor?.data as Float32Array;
    // Plane 0 is blue (51), plane 1 green (0), plane 2 red (255): (v/255 − 0.5)/0.5.
    expect(data[0]).toBeCloseTo(51 / 255 / 0.5 - 1, 6);
    expect(data[4]).toBeCloseTo(-1, 6);
    expect(data[8]).toBeCloseTo(1, 6);
  });

  it("lays out NHWC uint8 gray images and uses numeric folder names as labels", async () => {
    const folder = join(root, "digits");
    await mkdir(join(folder, "2"), { recursive: true });
    await mkdir(join(folder, "10"), { recursive: true });
    await writeSolidPng(join(folder, "2", "x.png"), [200, 200, 200]);
    await writeSolidPng(join(folder, "10", "y.png"), [10, 10, 10]);
    const dataset = await openDataset(folder, { spec: { preprocess: { width: 3, height: 1, channels: "gray", layout: "nhwc", dtype: "uint8" } } });
    const samples = await collect(dataset.samples());
    expect(samples.map((s) => s.label).sort()).toEqual([10, 2]);
    const two = samples.find((s) => s.label === 2);
    expect(two?.inputs.input?.dims).toEqual([1, 1, 3, 1]);
    expect(Array.from(two?.inputs.input?.data as Uint8Array)).toEqual([200, 200, 200]);
  });

  it("reports a corrupt image as DATASET_INVALID naming the file", async () => {
    const folder = join(root, "corrupt");
    await mkdir(join(folder, "a"), { recursive: true });
    await writeSolidPng(join(folder, "a", "good.png"), [1, 2, 3]);
    const good = await sharp(join(folder, "a", "good.png")).png().toBuffer();
    await writeFile(join(folder, "a", "bad.png"), good.subarray(0, 40));
    const dataset = await openDataset(folder, { spec: { preprocess: { width: 2, height: 2 } } });
    await expect(collect(dataset.samples())).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringContaining("bad.png") });
  });

  it("needs a preprocessing spec for images", async () => {
    const folder = join(root, "nospec");
    await mkdir(folder, { recursive: true });
    await writeSolidPng(join(folder, "a.png"), [1, 2, 3]);
    await expect(openDataset(folder)).rejects.toMatchObject({ code: "DATASET_INVALID" });
  });

  it("reads text labels from a manifest and refuses paths outside the folder", async () => {
    const folder = join(root, "manifest");
    await mkdir(folder, { recursive: true });
    await writeSolidPng(join(folder, "line.png"), [9, 9, 9]);
    await writeFile(join(folder, "manifest.jsonl"), `${JSON.stringify({ file: "line.png", label: "hello" })}\n`);
    const dataset = await openDataset(folder, { spec: { labels: "manifest", preprocess: { width: 4, height: 2 } } });
    const [sample] = await collect(dataset.samples());
    expect(sample?.label).toBe("hello");
    await writeFile(join(folder, "escape.jsonl"), `${JSON.stringify({ file: "../x.png" })}\n`);
    await expect(openDataset(folder, { spec: { manifest: "escape.jsonl", preprocess: { width: 4, height: 2 } } })).rejects.toMatchObject({
      code: "UNSAFE_PATH",
    });
  });
});

describe(".npy folders", () => {
  it("treats a flat folder as one sample per file and sub-folders as samples of named inputs", async () => {
    const flat = join(root, "npy-flat");
    await writeNpy(join(flat, "a.npy"), { dtype: "float32", dims: [1, 2], data: new Float32Array([1, 2]) });
    await writeNpy(join(flat, "b.npy"), { dtype: "float32", dims: [1, 2], data: new Float32Array([3, 4]) });
    const flatSet = await openDataset(flat);
    expect((await collect(flatSet.samples())).map((s) => Array.from(s.inputs.input?.data as Float32Array))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const nested = join(root, "npy-nested");
    await writeNpy(join(nested, "s0", "ids.npy"), { dtype: "int64", dims: [1, 2], data: new BigInt64Array([5n, 6n]) });
    await writeNpy(join(nested, "s0", "mask.npy"), { dtype: "int64", dims: [1, 2], data: new BigInt64Array([1n, 1n]) });
    const [sample] = await collect((await openDataset(nested)).samples());
    expect(Object.keys(sample?.inputs ?? {}).sort()).toEqual(["ids", "mask"]);
  });
});

describe("JSON datasets", () => {
  it("reads .jsonl records with explicit dtypes and nested arrays", async () => {
    const path = join(root, "inputs.jsonl");
    const lines = [
      { inputs: { ids: { dtype: "int64", dims: [1, 3], data: [1, 2, 3] }, x: [[0.5, 1.5]] }, label: 1 },
      { id: "second", inputs: { ids: { dtype: "int64", dims: [1, 3], data: [4, 5, 6] }, x: [[2, 3]] } },
    ];
    await writeFile(path, lines.map((line) => JSON.stringify(line)).join("\n"));
    const dataset = await openDataset(path);
    const samples = await collect(dataset.samples());
    expect(samples).toHaveLength(2);
    expect(samples[0]?.label).toBe(1);
    expect(Array.from(samples[0]?.inputs.ids?.data as BigInt64Array)).toEqual([1n, 2n, 3n]);
    expect(samples[0]?.inputs.x?.dims).toEqual([1, 2]);
    expect(samples[1]?.id).toBe("second");
  });

  it("rejects dims that do not match the data and ragged arrays", async () => {
    const path = join(root, "bad.json");
    await writeFile(path, JSON.stringify([{ inputs: { x: { dtype: "float32", dims: [2, 2], data: [1, 2, 3] } } }]));
    await expect(openDataset(path)).rejects.toMatchObject({ code: "DATASET_INVALID" });
    await writeFile(path, JSON.stringify([{ inputs: { x: [[1, 2], [3]] } }]));
    await expect(openDataset(path)).rejects.toMatchObject({ code: "DATASET_INVALID" });
  });
});

describe("fingerprint", () => {
  it("changes with a file's bytes, a label or the preprocessing, not with the folder's path", async () => {
    const write = async (folder: string, background: number, red: number, label: string) => {
      await mkdir(folder, { recursive: true });
      await writeSolidPng(join(folder, "a.png"), [red, 0, 0]);
      await writeSolidPng(join(folder, "b.png"), [0, 0, 255]);
      await writeFile(join(folder, "manifest.jsonl"), `${JSON.stringify({ file: "a.png", label })}\n${JSON.stringify({ file: "b.png", label: "two" })}\n`);
      const preprocess = { width: 8, height: 2, fit: "contain", position: "left", background: [background, background, background] };
      await writeFile(join(folder, "dataset.json"), JSON.stringify({ labels: "manifest", preprocess }));
    };
    const fingerprintOf = async (folder: string) => (await openDataset(folder)).fingerprint();
    await write(join(root, "print-a"), 255, 255, "one");
    const base = await fingerprintOf(join(root, "print-a"));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    await write(join(root, "print-copy"), 255, 255, "one");
    expect(await fingerprintOf(join(root, "print-copy"))).toBe(base);
    await write(join(root, "print-padding"), 128, 255, "one");
    expect(await fingerprintOf(join(root, "print-padding"))).not.toBe(base);
    await write(join(root, "print-pixels"), 255, 254, "one");
    expect(await fingerprintOf(join(root, "print-pixels"))).not.toBe(base);
    await write(join(root, "print-label"), 255, 255, "uno");
    expect(await fingerprintOf(join(root, "print-label"))).not.toBe(base);
  });

  it("of a JSON file changes with its bytes", async () => {
    const path = join(root, "print.jsonl");
    await writeFile(path, `${JSON.stringify({ inputs: { x: [[1, 2]] } })}\n`);
    const first = await (await openDataset(path)).fingerprint();
    await writeFile(path, `${JSON.stringify({ inputs: { x: [[1, 3]] } })}\n`);
    expect(await (await openDataset(path)).fingerprint()).not.toBe(first);
  });
});
