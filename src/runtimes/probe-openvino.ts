import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { buildProbeModel, matchesProbeExpectation, probeModelInputA, probeModelInputB, probeModelLength } from "./build-probe-model.js";
import { errorMessage, type BackendProbe, type RuntimeProbe } from "./runtime-probe.js";

/** The part of openvino-node's API the probe uses (the package is optional, so its types may be absent). */
interface OpenvinoAddon {
  Core: new () => {
    getAvailableDevices(): string[];
    readModelSync(modelPath: string): unknown;
    compileModelSync(model: unknown, deviceName: string): { createInferRequest(): { infer(inputs: Record<string, unknown>): Record<string, { data: ArrayLike<number> }> } };
  };
  Tensor: new (type: string, shape: number[], data: Float32Array) => unknown;
}

function isModuleMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** Compile and run the probe model on every device OpenVINO lists (CPU, GPU, NPU…). */
export async function probeOpenvino(emit: (backend: BackendProbe) => void): Promise<RuntimeProbe> {
  const started = process.hrtime.bigint();
  const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const base = { runtime: "openvino", framework: "openvino", packageName: "openvino-node" } as const;
  // A variable specifier: the package is optional and TypeScript must not require its types.
  const specifier = "openvino-node";
  let addon: OpenvinoAddon;
  try {
    addon = ((await import(specifier)) as { addon: OpenvinoAddon }).addon;
  } catch (error) {
    const missing = isModuleMissing(error);
    const reason = missing ? "openvino-node is not installed" : `openvino-node failed to load: ${errorMessage(error)}`;
    return { ...base, installed: !missing, available: false, reason, backends: [], details: {}, durationMs: durationMs() };
  }
  const scratchDir = await mkdtemp(join(tmpdir(), "edgeforge-openvino-probe-"));
  try {
    const modelPath = join(scratchDir, "probe.onnx");
    await writeFileAtomic(modelPath, buildProbeModel());
    const core = new addon.Core();
    const devices = core.getAvailableDevices();
    const backends: BackendProbe[] = [];
    for (const device of devices) {
      const deviceStarted = process.hrtime.bigint();
      const elapsedMs = () => Number(process.hrtime.bigint() - deviceStarted) / 1e6;
      let backend: BackendProbe;
      try {
        const request = core.compileModelSync(core.readModelSync(modelPath), device).createInferRequest();
        const outputs = request.infer({
          a: new addon.Tensor("f32", [probeModelLength], probeModelInputA),
          b: new addon.Tensor("f32", [probeModelLength], probeModelInputB),
        });
        const values = Object.values(outputs)[0]?.data;
        backend =
          values !== undefined && matchesProbeExpectation(values)
            ? { backend: device, works: true, durationMs: elapsedMs() }
            : { backend: device, works: false, reason: "ran, but the probe's Add gave wrong values", durationMs: elapsedMs() };
      } catch (error) {
        backend = { backend: device, works: false, reason: errorMessage(error), durationMs: elapsedMs() };
      }
      backends.push(backend);
      emit(backend);
    }
    const available = backends.some((backend) => backend.works);
    return {
      ...base,
      installed: true,
      available,
      ...(available ? {} : { reason: devices.length === 0 ? "OpenVINO lists no devices" : "no OpenVINO device ran the probe model" }),
      backends,
      details: { listedDevices: devices },
      durationMs: durationMs(),
    };
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}
