/**
 * Child-process entry for one engine's probe. Native engines load synchronously and can hang,
 * crash or print to the terminal; in a child the parent can time them out, survive a crash and
 * keep their output off the user's screen. Results go back over IPC.
 */
import { probeLlamaCpp } from "./probe-llama-cpp.js";
import { probeOnnxruntime } from "./probe-onnxruntime.js";
import { probeOpenvino } from "./probe-openvino.js";
import { errorMessage, type BackendProbe, type ProbeChildMessage, type RuntimeProbe } from "./runtime-probe.js";

const consoleLines: string[] = [];
const keep = (...args: unknown[]): void => {
  consoleLines.push(
    args
      .map((arg) => (typeof arg === "string" ? arg : errorMessage(arg)))
      .join(" ")
      .replace(/^\[node-llama-cpp\]\s*/, ""),
  );
};
console.log = keep;
console.info = keep;
console.warn = keep;
console.error = keep;

function send(message: ProbeChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const emit = (backend: BackendProbe): void => void send({ type: "backend", backend });

async function runProbe(engine: string | undefined): Promise<RuntimeProbe> {
  switch (engine) {
    case "onnxruntime":
      return probeOnnxruntime(emit);
    case "llama.cpp":
      return probeLlamaCpp(emit, () => consoleLines.splice(0));
    case "openvino":
      return probeOpenvino(emit);
    default:
      throw new Error(`unknown engine to probe: ${String(engine)}`);
  }
}

const probe = await runProbe(process.argv[2]);
await send({ type: "done", probe });
// Native engines may keep handles (thread pools) alive; the answer is delivered, so leave now.
process.exit(0);
