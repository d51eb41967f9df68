import { readFile, stat } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { EdgeforgeError, fileError } from "../core/errors.js";
import { computeModelManifest, defaultIgnorePaths, rootDigestOf, type FileSerialization, type ModelManifest, type ModelResource } from "./model-manifest.js";
import { loadPrivateSigningKey, loadPublicSigningKey, type PrivateSigningKey, type PublicSigningKey } from "./signing-keys.js";
import { inTotoStatementType, signStatement, verifyStatementBundle, type InTotoStatement, type SigstoreKeyBundle } from "./sigstore-bundle.js";

export const modelSignaturePredicateType = "https://model_signing/signature/v1.0";

/** Where a model's signature goes unless told otherwise: beside it, `<model>.sig`. */
export function defaultSignaturePath(modelPath: string): string {
  return `${resolve(modelPath)}.sig`;
}

/** The OMS v1.0 statement: one subject (model name, root digest) and every file's digest. */
export function buildModelStatement(manifest: ModelManifest): InTotoStatement {
  return {
    _type: inTotoStatementType,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigestOf(manifest.resources) } }],
    predicateType: modelSignaturePredicateType,
    predicate: { serialization: manifest.serialization, resources: manifest.resources },
  };
}

/** A signature file inside a model folder is not part of the model. */
function ignoreForSignature(modelPath: string, signaturePath: string | undefined, ignorePaths: readonly string[]): string[] {
  if (signaturePath === undefined) return [...ignorePaths];
  const inside = relative(resolve(modelPath), resolve(signaturePath));
  if (inside.startsWith("..") || inside === "" || resolve(inside) === inside) return [...ignorePaths];
  return [...ignorePaths, inside.split(sep).join("/")];
}

export interface SignModelOptions {
  ignorePaths?: readonly string[];
  allowSymlinks?: boolean;
  /** Where the bundle will be written, so a signature inside the model folder is left out of it. */
  signaturePath?: string;
  signal?: AbortSignal;
}

export interface SignedModel {
  bundle: SigstoreKeyBundle;
  manifest: ModelManifest;
  statement: InTotoStatement;
}

/** Sign a model file or folder in OMS v1.0 key mode. */
export async function signModel(modelPath: string, signingKey: PrivateSigningKey, options: SignModelOptions = {}): Promise<SignedModel> {
  const manifest = await computeModelManifest(modelPath, {
    ignorePaths: ignoreForSignature(modelPath, options.signaturePath, options.ignorePaths ?? defaultIgnorePaths),
    allowSymlinks: options.allowSymlinks ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const statement = buildModelStatement(manifest);
  return { bundle: signStatement(statement, signingKey), manifest, statement };
}

export interface VerifiedModel {
  modelName: string;
  rootDigest: string;
  keyHint: string;
  resources: ModelResource[];
}

function parseSignedManifest(statement: InTotoStatement, source: string): { serialization: FileSerialization; resources: ModelResource[]; rootDigest: string } {
  const problem = (why: string): EdgeforgeError =>
    new EdgeforgeError("SIGNATURE_MALFORMED", `${source} is not an OMS v1.0 model signature: ${why}`, { hint: "sign the model again with `edgeforge certify` or OMS tooling", details: { source } });
  if (statement.predicateType !== modelSignaturePredicateType) throw problem(`predicate type ${statement.predicateType}`);
  if (statement.subject.length !== 1) throw problem(`${statement.subject.length} subjects, expected 1`);
  const serialization = statement.predicate.serialization as Partial<FileSerialization> | undefined;
  const resources = statement.predicate.resources as ModelResource[] | undefined;
  if (serialization?.method !== "files" || serialization.hash_type !== "sha256") {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${source} uses serialization ${serialization?.method ?? "?"}/${serialization?.hash_type ?? "?"}; only files/sha256 is verified`, {
      hint: "sign the model with the files method and sha256",
      details: { source, serialization },
    });
  }
  if (!Array.isArray(resources) || resources.some((r) => typeof r?.name !== "string" || r.algorithm !== "sha256" || !/^[0-9a-f]{64}$/.test(String(r.digest)))) throw problem("its resources are not sha256 file digests");
  const rootDigest = rootDigestOf(resources);
  if (statement.subject[0]?.digest.sha256 !== rootDigest) throw problem("the subject digest does not match the listed resources");
  return { serialization: { method: "files", hash_type: "sha256", allow_symlinks: serialization.allow_symlinks === true, ignore_paths: Array.isArray(serialization.ignore_paths) ? serialization.ignore_paths.map(String) : [] }, resources, rootDigest };
}

function compareManifests(signed: readonly ModelResource[], local: readonly ModelResource[], signedName: string, localName: string, modelPath: string): void {
  const localByName = new Map(local.map((r) => [r.name, r.digest]));
  const signedByName = new Map(signed.map((r) => [r.name, r.digest]));
  const changed = signed.filter((r) => localByName.has(r.name) && localByName.get(r.name) !== r.digest).map((r) => r.name);
  const missing = signed.filter((r) => !localByName.has(r.name)).map((r) => r.name);
  const extra = local.filter((r) => !signedByName.has(r.name)).map((r) => r.name);
  const anyMatch = signed.some((r) => localByName.get(r.name) === r.digest);
  const sharedNames = signed.some((r) => localByName.has(r.name));
  const details = { model: modelPath, changed, missing, extra };
  if (!anyMatch && (signedName !== localName || !sharedNames)) {
    throw new EdgeforgeError("SIGNATURE_FOR_OTHER_MODEL", `the signature is for "${signedName}", not for ${modelPath}: none of its ${signed.length} file digest(s) match`, {
      hint: "pass the signature that was made for this model (--signature)",
      details,
    });
  }
  const list = (names: string[]): string => names.slice(0, 5).map((name) => (name === "." ? modelPath : name)).join(", ") + (names.length > 5 ? ` and ${names.length - 5} more` : "");
  if (changed.length > 0) {
    throw new EdgeforgeError("SIGNED_FILE_CHANGED", `${changed.length} signed file(s) changed since signing: ${list(changed)}`, { hint: "the model was modified after it was signed; do not use it", details });
  }
  if (missing.length > 0) {
    throw new EdgeforgeError("SIGNED_FILE_MISSING", `${missing.length} signed file(s) missing: ${list(missing)}`, { hint: "restore the complete model folder as it was signed", details });
  }
  if (extra.length > 0) {
    throw new EdgeforgeError("UNSIGNED_FILE_PRESENT", `${extra.length} file(s) not covered by the signature: ${list(extra)}`, { hint: "remove files added after signing, or sign the model again", details });
  }
}

export interface VerifyModelOptions {
  /** Where the bundle was read from: left out of the local manifest when it lies inside the model folder. */
  signaturePath?: string;
  signal?: AbortSignal;
}

/** Verify a parsed bundle against a model on disk: signature, key, statement, then every file's digest. */
export async function verifyModelSignature(modelPath: string, bundleJson: unknown, publicKey: PublicSigningKey, options: VerifyModelOptions = {}): Promise<VerifiedModel> {
  const source = options.signaturePath ?? "the signature";
  const statement = verifyStatementBundle(bundleJson, publicKey, source);
  const signed = parseSignedManifest(statement, source);
  const local = await computeModelManifest(modelPath, {
    ignorePaths: ignoreForSignature(modelPath, options.signaturePath, signed.serialization.ignore_paths),
    allowSymlinks: signed.serialization.allow_symlinks,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  compareManifests(signed.resources, local.resources, statement.subject[0]?.name ?? "", local.modelName, modelPath);
  return { modelName: statement.subject[0]?.name ?? local.modelName, rootDigest: signed.rootDigest, keyHint: publicKey.hint, resources: signed.resources };
}

async function readText(path: string, signal?: AbortSignal): Promise<string> {
  try {
    return await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    throw fileError(error, path, "read");
  }
}

export async function readPrivateSigningKey(path: string, signal?: AbortSignal): Promise<PrivateSigningKey> {
  return loadPrivateSigningKey(await readText(path, signal), path);
}

export async function readPublicSigningKey(path: string, signal?: AbortSignal): Promise<PublicSigningKey> {
  return loadPublicSigningKey(await readText(path, signal), path);
}

/** Read a bundle file as JSON (structure is checked by the verifier). */
export async function readSignatureBundle(path: string, signal?: AbortSignal): Promise<unknown> {
  const text = await readText(path, signal);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new EdgeforgeError("SIGNATURE_MALFORMED", `${path} is not JSON, so not a Sigstore bundle`, { hint: "pass the .sig file the signer wrote", details: { path }, cause: error });
  }
}

/**
 * The one call a loader needs before trusting a model: verify `modelPath` against the bundle at
 * `bundlePath` with the PEM public key; throws an EdgeforgeError naming what failed.
 */
export async function verifyArtifactSignature(modelPath: string, bundlePath: string, publicKeyPem: string, signal?: AbortSignal): Promise<VerifiedModel> {
  await stat(modelPath).catch((error: unknown) => {
    throw fileError(error, modelPath, "read");
  });
  const publicKey = loadPublicSigningKey(publicKeyPem);
  const bundle = await readSignatureBundle(bundlePath, signal);
  return verifyModelSignature(modelPath, bundle, publicKey, { signaturePath: resolve(bundlePath), ...(signal ? { signal } : {}) });
}

