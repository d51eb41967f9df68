import { copyFile, readFile, writeFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { keygen, sign } from "../../src/api/signing.js";
import { resolveModelArgument } from "../../src/api/serve.js";
import { Registry } from "../../src/registry/registry.js";
import { startInferenceServer, type InferenceServer } from "../../src/server/start-server.js";
import { sharedModels } from "../fixtures/shared-models.js";
import { useTempDir } from "../fixtures/temp-dir.js";
import { testToken } from "../fixtures/serve-test-helpers.js";

/** Models from the registry (`name@alias`) and the --require-signature gate (OMS signatures). */
const temp = useTempDir("serve-signed-");
const servers: InferenceServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe("edgeforge serve: registry references and required signatures", () => {
  it("serves name@alias from the registry under the model's name and registry version", async () => {
    const registryPath = temp.join("registry.db");
    {
      using registry = Registry.open(registryPath);
      await registry.addVersion({ model: "digits", path: sharedModels.mnist8Onnx, command: "test" });
      await registry.addVersion({ model: "digits", path: sharedModels.mnist8Onnx, version: "2", command: "test" });
      registry.setAlias({ model: "digits", alias: "production", version: "2", reason: "test", command: "test" });
    }
    const spec = await resolveModelArgument("digits@production", registryPath);
    expect(spec).toMatchObject({ name: "digits", version: "2", source: "digits@production" });
    await expect(resolveModelArgument("digits@nope", registryPath)).rejects.toThrow(/no alias or version "nope"/);
    const server = await startInferenceServer({ port: 0, models: [spec], threads: 1 });
    servers.push(server);
    await server.loaded;
    const metadata = (await (await fetch(`${server.url}/v2/models/digits`)).json()) as { versions: string[] };
    expect(metadata.versions).toEqual(["2"]);
    expect((await fetch(`${server.url}/v2/models/digits/versions/2/ready`)).status).toBe(200);
  });

  it("loads a model only when its signature verifies; a tampered copy stays unloaded with the reason", async () => {
    const keyPath = temp.join("key.pem");
    const pair = await keygen({ output: keyPath });
    const signedPath = temp.join("signed.onnx");
    const tamperedPath = temp.join("tampered.onnx");
    await copyFile(sharedModels.mnist8Onnx, signedPath);
    await copyFile(sharedModels.mnist8Onnx, tamperedPath);
    await sign({ model: signedPath, key: keyPath });
    await sign({ model: tamperedPath, key: keyPath });
    const bytes = await readFile(tamperedPath);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(tamperedPath, bytes);

    const server = await startInferenceServer(
      { port: 0, threads: 1, signatureKey: pair.publicKeyPath, models: [{ name: "signed", path: signedPath }, { name: "tampered", path: tamperedPath }] },
      { env: { EDGEFORGE_SERVE_TOKENS: testToken } },
    );
    servers.push(server);
    await server.loaded;
    expect((await fetch(`${server.url}/v2/models/signed/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/tampered/ready`)).status).toBe(503);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(503);
    const index = (await (await fetch(`${server.url}/v2/repository/index`, { method: "POST", headers: { authorization: `Bearer ${testToken}` } })).json()) as { name: string; state: string; reason: string }[];
    expect(index.find((m) => m.name === "tampered")).toMatchObject({ state: "UNAVAILABLE", reason: expect.stringMatching(/digest|changed|signature/i) });
  });
});
