import { fromBinary } from "@bufbuild/protobuf";
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TensorProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../src/core/errors.js";
import type { NamedTensors, Tensor } from "../../src/core/tensor.js";
import { readOnnxModel } from "../../src/formats/onnx/read-onnx.js";
import { toCoreTensor } from "../../src/formats/onnx/tensor-data.js";
import { writeOnnxModel } from "../../src/formats/onnx/write-onnx.js";
import { defaultOpsetVersion, NameAllocator } from "../../src/passes/onnx/graph-edit.js";
import { upgradeOpsetTo10 } from "../../src/passes/onnx/opset-upgrade.js";
import { openOrtSession } from "../../src/runtimes/ort/ort-runtime.js";
import { useTempDir } from "../fixtures/temp-dir.js";

/** The ONNX project's backend test models, as Debian's libonnx-testdata installs them. */
const testData = "/usr/share/libonnx-testdata/data";
const temp = useTempDir("edgeforge-opset-upgrade-");

async function readTensors(folder: string, prefix: "input" | "output", names: readonly string[]): Promise<NamedTensors> {
  const tensors: NamedTensors = {};
  for (const [i, name] of names.entries()) {
    tensors[name] = toCoreTensor(fromBinary(TensorProtoSchema, await readFile(join(folder, `${prefix}_${i}.pb`))));
  }
  return tensors;
}

/** Element-wise agreement at the backend tests' own tolerance (rtol 1e-3, atol 1e-7), loosened to atol 1e-5 for float32 rounding. */
function mismatch(expected: Tensor, actual: Tensor): string | undefined {
  if (expected.dims.join("x") !== actual.dims.join("x")) return `dims ${actual.dims.join("x")} ≠ ${expected.dims.join("x")}`;
  const [a, b] = [Array.from(expected.data as ArrayLike<number | bigint>, Number), Array.from(actual.data as ArrayLike<number | bigint>, Number)];
  const bad = a.findIndex((x, i) => !(Math.abs(x - b[i]!) <= 1e-5 + 1e-3 * Math.abs(x) || (Number.isNaN(x) && Number.isNaN(b[i]!))));
  return bad < 0 ? undefined : `element ${bad}: ${b[bad]} ≠ ${a[bad]}`;
}

describe("opset 7–9 → 10 upgrade, op by op against onnxruntime", () => {
  it("every backend test model at opset 7–9 gives the reference outputs after the upgrade (or is refused by name)", async () => {
    expect(existsSync(testData), `${testData} missing: install Debian's libonnx-testdata`).toBe(true);
    const results: { test: string; from: number; outcome: string }[] = [];
    for (const kind of ["node", "simple", "pytorch-converted", "pytorch-operator"]) {
      for (const test of readdirSync(join(testData, kind))) {
        const folder = join(testData, kind, test);
        const modelPath = join(folder, "model.onnx");
        if (!existsSync(modelPath) || !existsSync(join(folder, "test_data_set_0"))) continue;
        const { model } = await readOnnxModel(modelPath);
        const from = defaultOpsetVersion(model);
        if (from < 7 || from > 9) continue;
        const name = `${kind}/${test}`;
        try {
          upgradeOpsetTo10(model, new NameAllocator(model), name);
        } catch (error) {
          results.push({ test: name, from, outcome: EdgeforgeError.isInstance(error) ? `refused ${error.code}` : `threw ${(error as Error).message}` });
          continue;
        }
        const upgraded = temp.join(`${kind}-${test}.onnx`);
        await writeOnnxModel(model, upgraded);
        const session = await openOrtSession(upgraded, { threads: 1 });
        try {
          const data = join(folder, "test_data_set_0");
          const inputs = await readTensors(data, "input", model.graph!.input.filter((i) => !model.graph!.initializer.some((t) => t.name === i.name)).map((i) => i.name));
          const expected = await readTensors(data, "output", model.graph!.output.map((o) => o.name));
          const actual = await session.run(inputs);
          const problems = Object.entries(expected).map(([output, tensor]) => mismatch(tensor, actual[output]!)).filter(Boolean);
          results.push({ test: name, from, outcome: problems.length === 0 ? "ok" : `differs: ${problems[0]}` });
        } finally {
          await session.close();
        }
      }
    }
    const failures = results.filter((r) => r.outcome !== "ok");
    // Scan-8 had a batch axis Scan-9 dropped: the one op the upgrade refuses, by design.
    expect(failures).toEqual([{ test: "node/test_scan_sum", from: 8, outcome: "refused UNSUPPORTED_OP" }]);
    expect(results.length).toBeGreaterThanOrEqual(70);
  });
});
