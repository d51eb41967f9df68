/** Public library facade: the CLI and server only call what is exported here. */
export { EdgeforgeError, errorCodes, type ErrorCode } from "../core/errors.js";
export { version } from "./version.js";
export { inspect, type InspectOptions, type ModelInspection } from "./inspect.js";
export * from "./hardware.js";
export * from "./llm.js";
export * from "./bench.js";
export * from "./evaluate.js";
export * from "./optimize.js";
export * from "./quantize.js";
export * from "./signing.js";
export * from "./registry.js";
export * from "./serve.js";
export * from "./certify.js";
export * from "./package.js";
export * from "./rollout.js";
export * from "./monitor.js";
