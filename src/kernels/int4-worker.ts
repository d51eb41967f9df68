import { parentPort } from "node:worker_threads";
import { quantizeInt4Rows, type BlockwiseInt4Options, type BlockwiseInt4Result } from "./blockwise-int4.js";

/** Worker entry: quantize a range of rows of a shared transposed weight into shared result buffers. */
export interface Int4WorkerTask {
  weightT: Float32Array;
  result: BlockwiseInt4Result;
  options: BlockwiseInt4Options;
  rowStart: number;
  rowEnd: number;
}

parentPort?.on("message", (task: Int4WorkerTask) => {
  quantizeInt4Rows(task.weightT, task.result, task.options, task.rowStart, task.rowEnd);
  parentPort?.postMessage("done");
});
parentPort?.postMessage("ready");
