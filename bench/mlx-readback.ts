/**
 * bench:mlx-readback — how fast an MLX array's values reach JavaScript: edgeforge's read-back
 * (`mlxToFloat32`: MLX's own .npy writer to /dev/shm, then one Float32Array over the bytes) against
 * node-mlx's `tolist()` flattened into a Float32Array (what it replaced), on logits shapes
 * [128, 512] (stories260K) and [128, 32000] (a llama-2 vocabulary). Blocks alternate in one process
 * (order flipped every round), ratio = median of per-round tolist/read-back times with a 95 %
 * bootstrap interval; both are checked to give identical values. Writes bench/results/mlx-readback.json.
 * `--rounds N` (default 8).
 */
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../src/core/atomic-write.js";
import { median } from "../src/stats/describe-samples.js";
import { estimateRatio } from "../src/stats/paired-ratio.js";
import { createRandom } from "../src/stats/random.js";
import { loadMlx, mlxToFloat32 } from "../src/runtimes/mlx/mlx-runtime.js";
import { argument, log, repoRoot } from "./baseline-source.js";

type Array_ = Parameters<typeof mlxToFloat32>[0];
interface MlxForBench {
  float32: unknown;
  random: { normal(shape: number[]): Array_ };
  eval(...arrays: Array_[]): void;
}

const rounds = Number(argument("--rounds") ?? 8);
const mx = loadMlx() as unknown as MlxForBench;

function viaTolist(array: Array_): Float32Array {
  const list = (array.astype(mx.float32) as unknown as { tolist(): unknown }).tolist();
  return Float32Array.from((list as unknown[]).flat(Infinity) as number[]);
}

function timeMs(read: () => Float32Array): { ms: number; values: Float32Array } {
  const started = process.hrtime.bigint();
  const values = read();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, values };
}

const loadBefore = loadavg();
const results = [];
for (const shape of [
  [128, 512],
  [128, 32000],
]) {
  const array = mx.random.normal(shape);
  mx.eval(array);
  const readBack = mlxToFloat32(array);
  const same = viaTolist(array).every((value, index) => value === readBack[index]);
  const tolistMs: number[] = [];
  const readBackMs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? ["tolist", "readBack"] : ["readBack", "tolist"];
    for (const arm of order) {
      if (arm === "tolist") tolistMs.push(timeMs(() => viaTolist(array)).ms);
      else readBackMs.push(timeMs(() => mlxToFloat32(array)).ms);
    }
  }
  const ratio = estimateRatio(
    tolistMs.map((ms, i) => ms / (readBackMs[i] as number)),
    createRandom(1),
  );
  log(`[${shape.join(", ")}] tolist ${median(tolistMs).toFixed(1)} ms, read-back ${median(readBackMs).toFixed(1)} ms: ${ratio.ratio.toFixed(2)}× [${ratio.low.toFixed(2)}, ${ratio.high.toFixed(2)}] faster, identical values: ${same}`);
  results.push({ shape, identicalValues: same, tolistMedianMs: median(tolistMs), readBackMedianMs: median(readBackMs), speedup: ratio, tolistMs, readBackMs });
}
const out = {
  kind: "edgeforge.bench.mlx-readback",
  createdAt: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
  method: `one process, ${rounds} rounds alternating tolist and read-back (order flipped each round) on the same evaluated array; ratio = median of per-round tolist/read-back times, 95 % bootstrap interval`,
  results,
};
await writeFileAtomic(join(repoRoot, "bench/results/mlx-readback.json"), `${JSON.stringify(out, null, 2)}\n`);
log("wrote bench/results/mlx-readback.json");
