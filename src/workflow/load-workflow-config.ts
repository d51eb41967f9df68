import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { parseConfigText } from "../core/parse-config-text.js";
import { workflowConfigSchema, type WorkflowConfig } from "./workflow-config.js";

export type ConfigLayer = Record<string, unknown>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Later layers win; objects merge key by key, arrays and scalars replace, undefined leaves the value. */
export function mergeConfigLayers(...layers: readonly ConfigLayer[]): ConfigLayer {
  const merged: ConfigLayer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const current = merged[key];
      merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfigLayers(current, value) : value;
    }
  }
  return merged;
}

/** Validate a merged config; `where` names its source in errors. */
export function resolveWorkflowConfig(layer: ConfigLayer, where: string): WorkflowConfig {
  const result = workflowConfigSchema.safeParse(layer);
  if (!result.success) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} does not match the workflow schema:\n${z.prettifyError(result.error)}`, {
      hint: "see docs/decide.md (Workflow config); `edgeforge optimize MODEL --dry-run` prints a valid one",
      details: { where, issues: result.error.issues },
    });
  }
  return result.data;
}

/** Parse YAML or JSON text into a config layer (not yet validated: flags may still fill it). */
export function parseConfigDocument(text: string, where: string): ConfigLayer {
  const document = parseConfigText(text, where);
  if (!isPlainObject(document)) {
    throw new EdgeforgeError("INVALID_CONFIG", `${where} must hold a mapping (key: value), not ${document === null ? "nothing" : typeof document}`, {
      hint: "start the file with `schemaVersion: 1`",
      details: { where },
    });
  }
  return document;
}

const pathKeys: ReadonlyArray<readonly string[]> = [
  ["model"],
  ["output"],
  ["data", "evaluation"],
  ["data", "calibration"],
  ["data", "labels"],
  ["gates", "file"],
  ["cache", "dir"],
];

/** Paths in a config file are relative to the file, not to where the command runs. */
export function resolveConfigPaths(layer: ConfigLayer, baseDir: string): ConfigLayer {
  const copy = structuredClone(layer);
  for (const keys of pathKeys) {
    let holder: unknown = copy;
    for (const key of keys.slice(0, -1)) holder = isPlainObject(holder) ? holder[key] : undefined;
    const last = keys[keys.length - 1] as string;
    if (isPlainObject(holder) && typeof holder[last] === "string" && !isAbsolute(holder[last] as string)) {
      holder[last] = resolve(baseDir, holder[last] as string);
    }
  }
  return copy;
}

export async function readConfigLayer(path: string, signal?: AbortSignal): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
  return resolveConfigPaths(parseConfigDocument(text, path), dirname(resolve(path)));
}
