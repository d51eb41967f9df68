import { stat } from "node:fs/promises";
import type { Dtype } from "../../core/dtypes.js";
import { EdgeforgeError, fileError } from "../../core/errors.js";
import type { RunOptions, Session, SessionDescription } from "../../core/session.js";
import type { NamedTensors, Tensor, TensorData, TensorSpec } from "../../core/tensor.js";
import { readPackageVersion } from "../package-version.js";
import type { RuntimeSettings } from "../runtime-settings.js";
import type { OvAddon, OvCompiledModel, OvCore, OvOutput } from "./openvino-api.js";

/** OpenVINO element names ↔ edgeforge dtypes (the subset openvino-node can wrap in typed arrays). */
const elementToDtype: Record<string, Dtype> = {
  f32: "float32",
  f64: "float64",
  i8: "int8",
  u8: "uint8",
  i16: "int16",
  u16: "uint16",
  i32: "int32",
  u32: "uint32",
  i64: "int64",
  u64: "uint64",
};
const dtypeToElement = Object.fromEntries(Object.entries(elementToDtype).map(([element, dtype]) => [dtype, element]));

// A variable specifier keeps TypeScript from requiring the optional package at build time.
const packageName = "openvino-node";

/** Load openvino-node, or say precisely why it cannot be used. Never substitutes another engine. */
export async function loadOpenVino(): Promise<OvAddon> {
  let module: { addon?: OvAddon; default?: { addon?: OvAddon } };
  try {
    module = (await import(packageName)) as typeof module;
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" || /Cannot find (package|module)|Failed to load url/.test((error as Error).message);
    throw new EdgeforgeError(
      "RUNTIME_UNAVAILABLE",
      missing ? "the openvino runtime needs the openvino-node package, which is not installed" : `openvino-node failed to load: ${(error as Error).message}`,
      {
        hint: missing ? "npm install openvino-node (x64/arm64 Linux, Windows or macOS), or use --runtime ort" : "reinstall openvino-node for this platform, or use --runtime ort",
        details: { package: packageName },
        cause: error,
      },
    );
  }
  const addon = module.addon ?? module.default?.addon;
  if (!addon) {
    throw new EdgeforgeError("RUNTIME_UNAVAILABLE", "openvino-node is installed but exports no addon", {
      hint: "install a current openvino-node (2024.4 or newer)",
    });
  }
  return addon;
}

function specFor(output: OvOutput, dtype: Dtype): TensorSpec {
  const shape = output
    .getPartialShape()
    .getDimensions()
    .map((dim) => (typeof dim === "number" && dim >= 0 ? dim : null));
  return { name: output.getAnyName(), dtype, shape };
}

function elementName(addon: OvAddon, value: number): string {
  return String(addon.element[value] ?? value);
}

/** Open a model (ONNX or OpenVINO IR) on the first requested device that compiles it. */
export async function openOpenVinoSession(modelPath: string, settings: RuntimeSettings = {}): Promise<Session> {
  try {
    await stat(modelPath);
  } catch (error) {
    throw fileError(error, modelPath, "read");
  }
  const addon = await loadOpenVino();
  const core: OvCore = new addon.Core();
  const requested = settings.executionProviders ?? ["CPU"];
  const available = core.getAvailableDevices();
  const model = await core.readModel(modelPath);
  const config: Record<string, number> = settings.threads === undefined ? {} : { INFERENCE_NUM_THREADS: settings.threads };
  const attempts: { provider: string; outcome: string; reason?: string }[] = [];
  let compiled: OvCompiledModel | undefined;
  let device = "";
  for (const name of requested.map((d) => d.toUpperCase())) {
    if (!available.some((d) => d === name || d.startsWith(`${name}.`))) {
      attempts.push({ provider: name, outcome: "unsupported", reason: `not among available devices (${available.join(", ")})` });
      continue;
    }
    try {
      compiled = await core.compileModel(model, name, config);
      device = name;
      attempts.push({ provider: name, outcome: "used" });
      break;
    } catch (error) {
      attempts.push({ provider: name, outcome: "failed", reason: (error as Error).message.split("\n")[0] ?? "" });
    }
  }
  if (!compiled) {
    throw new EdgeforgeError("RUNTIME_FAILED", `OpenVINO could not compile ${modelPath} on ${requested.join(", ")}`, {
      hint: `attempts: ${attempts.map((a) => `${a.provider} ${a.outcome}${a.reason ? ` (${a.reason})` : ""}`).join("; ")}`,
      details: { modelPath, attempts },
    });
  }
  const request = compiled.createInferRequest();
  const inputs = compiled.inputs.map((port, index) => specFor(port, elementToDtype[elementName(addon, request.getInputTensor(index).getElementType())] ?? "float32"));
  const outputs = compiled.outputs.map((port, index) => specFor(port, elementToDtype[elementName(addon, request.getOutputTensor(index).getElementType())] ?? "float32"));
  const versions = core.getVersions(device);
  const description: SessionDescription = {
    runtime: "openvino",
    runtimeVersion: Object.values(versions)[0]?.buildNumber ?? (await readPackageVersion(packageName)) ?? "unknown",
    executionProvider: device.toLowerCase(),
    requestedProviders: requested,
    ...(settings.threads === undefined ? {} : { intraOpThreads: settings.threads }),
    inputs,
    outputs,
    settings: { device, providerAttempts: attempts, config },
  };
  // openvino-node frees compiled models and requests with their JS objects; closing only stops further runs.
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
  };
  return {
    describe: () => description,
    async run(feeds: NamedTensors, options: RunOptions = {}): Promise<NamedTensors> {
      if (closed) throw new EdgeforgeError("RUNTIME_FAILED", "run() on a closed session", { hint: "open a new session" });
      options.signal?.throwIfAborted();
      const ovFeeds: Record<string, InstanceType<OvAddon["Tensor"]>> = {};
      for (const [name, tensor] of Object.entries(feeds)) {
        const element = dtypeToElement[tensor.dtype];
        if (!element) {
          throw new EdgeforgeError("UNSUPPORTED_FEATURE", `input "${name}" has dtype ${tensor.dtype}, which openvino-node cannot wrap`, {
            hint: "use --runtime ort for this model",
          });
        }
        ovFeeds[name] = new addon.Tensor(element, tensor.dims, tensor.data);
      }
      let results: Record<string, InstanceType<OvAddon["Tensor"]>>;
      try {
        results = await request.inferAsync(ovFeeds);
      } catch (error) {
        throw new EdgeforgeError("RUNTIME_FAILED", `OpenVINO inference failed: ${(error as Error).message.split("\n")[0]}`, {
          hint: "check the input names, dtypes and shapes against the model",
          cause: error,
        });
      }
      const wanted = options.outputNames ? new Set(options.outputNames) : undefined;
      const out: NamedTensors = {};
      for (const [name, value] of Object.entries(results)) {
        if (wanted && !wanted.has(name)) continue;
        const dtype = elementToDtype[elementName(addon, value.getElementType())];
        if (!dtype) continue;
        const tensor: Tensor = { dtype, dims: value.getShape(), data: value.getData() as TensorData };
        out[name] = tensor;
      }
      return out;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
