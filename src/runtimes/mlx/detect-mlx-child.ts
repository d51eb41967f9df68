/** Child-process entry for `detectMlx` (see detect-mlx.ts): load node-mlx, add two small arrays, answer, exit. */
import { answerParent } from "../../core/child-call.js";
import { readPackageVersion } from "../package-version.js";
import { loadMlx, mlxToFloat32 } from "./mlx-runtime.js";

answerParent(async () => {
  const mx = loadMlx();
  const sum = mlxToFloat32(mx.add(mx.array([1, 2, 3, 4], mx.float32), mx.array([10, 20, 30, 40], mx.float32)));
  if (sum.join(",") !== "11,22,33,44") throw new Error(`MLX computed [${sum.join(", ")}] for [1, 2, 3, 4] + [10, 20, 30, 40]`);
  return (await readPackageVersion("@frost-beta/mlx")) ?? "unknown";
});
