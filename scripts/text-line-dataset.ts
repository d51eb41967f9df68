import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { createRandom } from "../src/stats/random.js";

/**
 * A labelled OCR evaluation set made here, not downloaded: short text lines rendered to PNG
 * (black on white, like a cropped scan line), a manifest with the true text, and the
 * preprocessing PaddleOCR's recognizer expects (height 48, BGR, (x/255 − 0.5)/0.5, left-aligned,
 * padded with mid-grey: PaddleOCR pads with the normalized 0; white padding reads as extra
 * characters and cost the float model 5 of 48 lines).
 */
const words = [
  "edge", "model", "forge", "quick", "brown", "fox", "data", "light", "river", "stone", "north", "green", "cloud", "paper",
  "metal", "train", "sound", "table", "chair", "plant", "house", "water", "smart", "label", "night", "store", "field", "power",
];

export interface TextLineDatasetOptions {
  count: number;
  seed: number;
  /** Input width after preprocessing; lines are rendered to fit it. */
  width?: number;
}

export function textLines(count: number, seed: number): string[] {
  const random = createRandom(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const first = words[random.int(0, words.length)] as string;
    const kind = random.int(0, 3);
    const second = kind === 0 ? String(random.int(10, 1000)) : (words[random.int(0, words.length)] as string);
    lines.push(kind === 2 ? `${first.toUpperCase()} ${second}` : `${first} ${second}`);
  }
  return lines;
}

/** Render the lines into `dir` as PNG files with manifest.jsonl and dataset.json; returns the lines. */
export async function writeTextLineDataset(dir: string, options: TextLineDatasetOptions): Promise<string[]> {
  const width = options.width ?? 320;
  await mkdir(dir, { recursive: true });
  const lines = textLines(options.count, options.seed);
  const manifest: string[] = [];
  for (const [index, text] of lines.entries()) {
    const svgWidth = 22 * text.length + 24;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="64"><rect width="100%" height="100%" fill="white"/><text x="12" y="46" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="34" fill="black">${text}</text></svg>`;
    const name = `line-${String(index).padStart(3, "0")}.png`;
    await writeFileAtomic(join(dir, name), await sharp(Buffer.from(svg)).png().toBuffer());
    manifest.push(JSON.stringify({ file: name, label: text }));
  }
  await writeFileAtomic(join(dir, "manifest.jsonl"), `${manifest.join("\n")}\n`);
  const preprocess = { width, height: 48, fit: "contain", position: "left", background: [128, 128, 128], channels: "bgr", mean: [0.5], std: [0.5] };
  await writeFileAtomic(join(dir, "dataset.json"), `${JSON.stringify({ schemaVersion: 1, kind: "images", labels: "manifest", manifest: "manifest.jsonl", preprocess }, null, 2)}\n`);
  return lines;
}
