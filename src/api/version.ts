import { readFileSync } from "node:fs";

// package.json sits two levels up from both src/api and dist/api.
const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export const version: string = packageJson.version;
