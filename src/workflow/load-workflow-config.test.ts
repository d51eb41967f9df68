import { describe, expect, it } from "vitest";
import { EdgeforgeError } from "../core/errors.js";
import { mergeConfigLayers, parseConfigDocument, resolveConfigPaths, resolveWorkflowConfig } from "./load-workflow-config.js";
import { defaultCacheDir } from "./workflow-config.js";

describe("workflow config", () => {
  it("fills defaults and lets flags override the file, which overrides defaults", () => {
    const file = parseConfigDocument("schemaVersion: 1\nmodel: m.onnx\noutput: out\nsearch: { maxCandidates: 6, seed: 9 }\nconstraints: ['p95LatencyMs <= 20']\n", "w.yaml");
    const flags = { search: { maxCandidates: 3 }, target: "raspberry-pi-5-8gb", constraints: undefined };
    const config = resolveWorkflowConfig(mergeConfigLayers(file, flags), "w.yaml + flags");
    expect(config.search).toEqual({ strategy: "auto", maxCandidates: 3, seed: 9, stopWhenGoalsMet: false });
    expect(config.target).toBe("raspberry-pi-5-8gb");
    expect(config.constraints).toEqual(["p95LatencyMs <= 20"]);
    expect(config.measurement).toEqual({ runs: 30, warmupRuns: 5, shapes: {} });
    expect(config.gates.useDefaults).toBe(true);
    expect(config.cache.enabled).toBe(true);
  });

  it("resolves file-relative paths but keeps absolute ones", () => {
    const layer = resolveConfigPaths({ model: "models/m.onnx", output: "/abs/out", data: { evaluation: "eval" }, gates: { file: "g.yaml" } }, "/proj");
    expect(layer).toMatchObject({ model: "/proj/models/m.onnx", output: "/abs/out", data: { evaluation: "/proj/eval" }, gates: { file: "/proj/g.yaml" } });
  });

  it("rejects unknown keys, wrong versions and non-mappings with INVALID_CONFIG", () => {
    const fail = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        if (EdgeforgeError.isInstance(error)) return error.code;
      }
      return "no error";
    };
    expect(fail(() => resolveWorkflowConfig({ schemaVersion: 1, model: "m", output: "o", serch: {} }, "w"))).toBe("INVALID_CONFIG");
    expect(fail(() => resolveWorkflowConfig({ schemaVersion: 2, model: "m", output: "o" }, "w"))).toBe("INVALID_CONFIG");
    expect(fail(() => resolveWorkflowConfig({ schemaVersion: 1, model: "m", output: "o", search: { strategy: "grid" } }, "w"))).toBe("INVALID_CONFIG");
    expect(fail(() => parseConfigDocument("- a\n- b\n", "w"))).toBe("INVALID_CONFIG");
    expect(fail(() => parseConfigDocument("a: [", "w"))).toBe("INVALID_CONFIG");
  });

  it("places the cache under EDGEFORGE_CACHE_DIR, XDG_CACHE_HOME or ~/.cache", () => {
    expect(defaultCacheDir({ EDGEFORGE_CACHE_DIR: "/c" })).toBe("/c");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/edgeforge");
    expect(defaultCacheDir({})).toMatch(/\.cache\/edgeforge$/);
  });
});
