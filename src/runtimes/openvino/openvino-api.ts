/**
 * The part of openvino-node's documented API (addon.d.ts, OpenVINO 2025) that edgeforge uses.
 * Declared here because the package is optional: it is not installed unless the user adds it.
 */
export type OvTypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface OvTensor {
  getElementType(): number;
  getShape(): number[];
  getData(): OvTypedArray;
}

export interface OvPartialShape {
  isStatic(): boolean;
  getDimensions(): (number | [number, number])[];
}

export interface OvOutput {
  getAnyName(): string;
  getPartialShape(): OvPartialShape;
}

export interface OvInferRequest {
  inferAsync(inputs: Record<string, OvTensor>): Promise<Record<string, OvTensor>>;
  getInputTensor(index: number): OvTensor;
  getOutputTensor(index: number): OvTensor;
}

export interface OvCompiledModel {
  inputs: OvOutput[];
  outputs: OvOutput[];
  createInferRequest(): OvInferRequest;
}

export interface OvModel {
  inputs: OvOutput[];
}

export interface OvCore {
  readModel(modelPath: string, weightsPath?: string): Promise<OvModel>;
  compileModel(model: OvModel, deviceName: string, config?: Record<string, string | number | boolean>): Promise<OvCompiledModel>;
  getAvailableDevices(): string[];
  getVersions(deviceName: string): Record<string, { buildNumber: string; description: string }>;
}

export interface OvAddon {
  Core: new () => OvCore;
  Tensor: new (type: string, shape: number[], data: OvTypedArray) => OvTensor;
  /** Numeric enum: element[name] → value and element[value] → name. */
  element: Record<string | number, string | number>;
}
