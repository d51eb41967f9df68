import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findInstalledPackage } from "./find-installed-package.js";

describe("findInstalledPackage", () => {
  it("finds an installed package's version without loading it", async () => {
    const manifest = JSON.parse(readFileSync(new URL("../../node_modules/onnxruntime-node/package.json", import.meta.url), "utf8")) as { version: string };
    const found = await findInstalledPackage("onnxruntime-node");
    expect(found?.version).toBe(manifest.version);
    expect(found?.directory).toMatch(/node_modules\/onnxruntime-node$/);
  });

  it("returns undefined for a package that is not installed", async () => {
    expect(await findInstalledPackage("openvino-node-does-not-exist")).toBeUndefined();
  });
});
