import { readFileSync } from "node:fs";

// package.json sits two levels above src/core and dist/core.
const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** This package's version (package.json), as outputs, reports and the server state it. */
export const edgeforgeVersion: string = packageJson.version;
