import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { EdgeforgeError } from "../core/errors.js";
import { hashSha256 } from "../core/hashing.js";

/** The curves OpenSSF Model Signing accepts in key mode, each paired with the hash it signs with. */
export const signingCurves = ["P-256", "P-384", "P-521"] as const;
export type SigningCurve = (typeof signingCurves)[number];

const curveByOpenSslName: Record<string, SigningCurve> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const hashByCurve: Record<SigningCurve, "sha256" | "sha384" | "sha512"> = { "P-256": "sha256", "P-384": "sha384", "P-521": "sha512" };

export interface SigningKeyPair {
  curve: SigningCurve;
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface PrivateSigningKey {
  curve: SigningCurve;
  key: KeyObject;
  publicKey: PublicSigningKey;
}

export interface PublicSigningKey {
  curve: SigningCurve;
  key: KeyObject;
  /** SubjectPublicKeyInfo PEM, as the key hint is computed over it. */
  pem: string;
  /** Hex sha256 of the SPKI PEM: the bundle's `verificationMaterial.publicKey.hint`. */
  hint: string;
}

export function signatureHashFor(curve: SigningCurve): "sha256" | "sha384" | "sha512" {
  return hashByCurve[curve];
}

/** A fresh ECDSA key pair: PKCS#8 private key and SPKI public key, both PEM. */
export function generateSigningKeyPair(curve: SigningCurve = "P-256"): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  return {
    curve,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function curveOf(key: KeyObject, source: string): SigningCurve {
  const type = key.asymmetricKeyType;
  const curve = curveByOpenSslName[key.asymmetricKeyDetails?.namedCurve ?? ""];
  if (type !== "ec" || curve === undefined) {
    const what = type === "ec" ? `an EC key on curve ${key.asymmetricKeyDetails?.namedCurve ?? "unknown"}` : `a key of type ${type ?? "unknown"}`;
    throw new EdgeforgeError("KEY_INVALID", `${source} is ${what}; model signatures use ECDSA P-256, P-384 or P-521`, {
      hint: "make a key pair with `edgeforge keygen` (P-256 by default)",
      details: { source, keyType: type, curve: key.asymmetricKeyDetails?.namedCurve },
    });
  }
  return curve;
}

function toPublicSigningKey(key: KeyObject, source: string): PublicSigningKey {
  const curve = curveOf(key, source);
  const pem = key.export({ type: "spki", format: "pem" }).toString();
  return { curve, key, pem, hint: hashSha256(pem) };
}

function notAKey(source: string, expected: string, cause: unknown): EdgeforgeError {
  return new EdgeforgeError("KEY_INVALID", `${source} is not a PEM ${expected}`, {
    hint: "pass the .pem file `edgeforge keygen` wrote (the private key to sign, the .pub.pem to verify)",
    details: { source },
    cause,
  });
}

/** Parse a PEM private key and check that it is an ECDSA key on a supported curve. */
export function loadPrivateSigningKey(pem: string | Uint8Array, source = "the private key"): PrivateSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pem), format: "pem" });
  } catch (error) {
    throw notAKey(source, "private key", error);
  }
  const publicKey = toPublicSigningKey(createPublicKey(key), source);
  return { curve: publicKey.curve, key, publicKey };
}

/** Parse a PEM public key (a private key also works: its public half is used). */
export function loadPublicSigningKey(pem: string | Uint8Array, source = "the public key"): PublicSigningKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pem), format: "pem" });
  } catch (error) {
    throw notAKey(source, "public key", error);
  }
  return toPublicSigningKey(key, source);
}
