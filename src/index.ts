/** The public library entry: everything importable from "edgeforge". */
export * from "./api/index.js";
