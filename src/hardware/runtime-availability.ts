import type { Framework } from "./target-profile.js";

/** What the decision tree needs to know about an installed runtime; built from runtime probes (L2). */
export interface RuntimeAvailability {
  framework: Framework;
  /** The package that provides it: "onnxruntime-node", "node-llama-cpp", "openvino-node", or "mlx (Python)". */
  packageName: string;
  installed: boolean;
  version?: string;
  /** Backends proven to work by running a model; absent when only installation was checked. */
  workingBackends?: string[];
  /** Why it is not installed or not working. */
  reason?: string;
}

/** How to get each framework, for hints. */
export const frameworkPackages: Record<Framework, { packageName: string; installHint: string }> = {
  onnxruntime: { packageName: "onnxruntime-node", installHint: "npm install onnxruntime-node" },
  "llama.cpp": { packageName: "node-llama-cpp", installHint: "npm install node-llama-cpp" },
  openvino: { packageName: "openvino-node", installHint: "npm install openvino-node" },
  mlx: { packageName: "mlx (Python)", installHint: "pip install mlx mlx-lm (Apple silicon only)" },
};
