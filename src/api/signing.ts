import { resolve } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { defaultIgnorePaths } from "../signing/model-manifest.js";
import {
  defaultSignaturePath,
  readPrivateSigningKey,
  readPublicSigningKey,
  readSignatureBundle,
  signModel,
  verifyModelSignature,
  type VerifiedModel,
} from "../signing/model-signature.js";
import type { SigningCurve } from "../signing/signing-keys.js";
import { writeSigningKeyPair, type WrittenKeyPair } from "../signing/write-signing-key-pair.js";

export { signingCurves, type SigningCurve } from "../signing/signing-keys.js";
export { verifyArtifactSignature, defaultSignaturePath, type VerifiedModel } from "../signing/model-signature.js";
export type { WrittenKeyPair } from "../signing/write-signing-key-pair.js";

export interface KeygenOptions {
  /** Private key path; the public key goes beside it as `.pub.pem`. */
  output: string;
  curve?: SigningCurve;
  overwrite?: boolean;
  signal?: AbortSignal;
}

/** Make an ECDSA key pair for model signatures (private key mode 0600). */
export async function keygen(options: KeygenOptions): Promise<WrittenKeyPair> {
  return writeSigningKeyPair(resolve(options.output), {
    ...(options.curve ? { curve: options.curve } : {}),
    ...(options.overwrite ? { overwrite: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

export interface SignOptions {
  model: string;
  /** Private key PEM path. */
  key: string;
  /** Bundle path (default `<model>.sig`). */
  output?: string;
  ignorePaths?: string[];
  signal?: AbortSignal;
}

export interface SignResult {
  signaturePath: string;
  modelName: string;
  rootDigest: string;
  files: number;
}

/** Sign a model file or folder: an OMS v1.0 Sigstore bundle in key mode. */
export async function sign(options: SignOptions): Promise<SignResult> {
  const signaturePath = resolve(options.output ?? defaultSignaturePath(options.model));
  const key = await readPrivateSigningKey(options.key, options.signal);
  const { bundle, manifest, statement } = await signModel(options.model, key, {
    signaturePath,
    ignorePaths: options.ignorePaths ?? defaultIgnorePaths,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  await writeFileAtomic(signaturePath, `${JSON.stringify(bundle, null, 2)}\n`, options.signal);
  return { signaturePath, modelName: manifest.modelName, rootDigest: statement.subject[0]?.digest.sha256 ?? "", files: manifest.resources.length };
}

export interface VerifyOptions {
  model: string;
  /** Public key PEM path. */
  key: string;
  /** Bundle path (default `<model>.sig`). */
  signature?: string;
  signal?: AbortSignal;
}

/** Verify a model against its OMS bundle offline; throws an EdgeforgeError naming what failed. */
export async function verify(options: VerifyOptions): Promise<VerifiedModel & { signaturePath: string }> {
  const signaturePath = resolve(options.signature ?? defaultSignaturePath(options.model));
  const publicKey = await readPublicSigningKey(options.key, options.signal);
  const bundle = await readSignatureBundle(signaturePath, options.signal);
  const verified = await verifyModelSignature(options.model, bundle, publicKey, { signaturePath, ...(options.signal ? { signal: options.signal } : {}) });
  return { ...verified, signaturePath };
}
