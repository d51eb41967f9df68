import { sign, verify } from "node:crypto";
import { assertBundleLatest, bundleFromJSON, type Bundle } from "@sigstore/bundle";
import { dsse } from "@sigstore/core";
import { toSignedEntity, Verifier, VerificationError, type TrustMaterial } from "@sigstore/verify";
import { EdgeforgeError } from "../core/errors.js";
import { signatureHashFor, type PrivateSigningKey, type PublicSigningKey } from "./signing-keys.js";

export const sigstoreBundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const inTotoPayloadType = "application/vnd.in-toto+json";
export const inTotoStatementType = "https://in-toto.io/Statement/v1";

export interface InTotoSubject {
  name: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: typeof inTotoStatementType;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

/** A Sigstore bundle v0.3 in key mode: a DSSE envelope, the key's hint, no transparency-log entries. */
export interface SigstoreKeyBundle {
  mediaType: typeof sigstoreBundleMediaType;
  verificationMaterial: { publicKey: { hint: string }; tlogEntries: [] };
  dsseEnvelope: {
    /** Standard padded base64 of the statement's JSON bytes. */
    payload: string;
    payloadType: typeof inTotoPayloadType;
    /** DER-encoded ECDSA signature over the DSSE pre-authentication encoding, standard base64. */
    signatures: Array<{ sig: string; keyid: string }>;
  };
}

/** Sign an in-toto statement: DSSE over its JSON bytes, wrapped in a Sigstore bundle. */
export function signStatement(statement: InTotoStatement, signingKey: PrivateSigningKey): SigstoreKeyBundle {
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const signature = sign(signatureHashFor(signingKey.curve), dsse.preAuthEncoding(inTotoPayloadType, payload), signingKey.key);
  return {
    mediaType: sigstoreBundleMediaType,
    verificationMaterial: { publicKey: { hint: signingKey.publicKey.hint }, tlogEntries: [] },
    dsseEnvelope: {
      payload: payload.toString("base64"),
      payloadType: inTotoPayloadType,
      signatures: [{ sig: signature.toString("base64"), keyid: "" }],
    },
  };
}

function malformed(source: string, why: string, cause?: unknown): EdgeforgeError {
  return new EdgeforgeError("SIGNATURE_MALFORMED", `${source} is not an OMS Sigstore bundle: ${why}`, {
    hint: "pass the .sig file `edgeforge certify` or `edgeforge sign` wrote (a Sigstore bundle v0.3 in JSON)",
    details: { source },
    cause,
  });
}

function parseBundle(json: unknown, source: string): Bundle {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
    assertBundleLatest(bundle);
  } catch (error) {
    throw malformed(source, error instanceof Error ? error.message : String(error), error);
  }
  if (bundle.mediaType !== sigstoreBundleMediaType) throw malformed(source, `media type ${bundle.mediaType}, expected ${sigstoreBundleMediaType}`);
  if (bundle.content.$case !== "dsseEnvelope") throw malformed(source, "it carries no DSSE envelope");
  if (bundle.verificationMaterial.content.$case !== "publicKey") throw malformed(source, "it is not signed in key mode (no public-key hint)");
  if (bundle.content.dsseEnvelope.payloadType !== inTotoPayloadType) throw malformed(source, `payload type ${bundle.content.dsseEnvelope.payloadType}`);
  if (bundle.content.dsseEnvelope.signatures.length !== 1) throw malformed(source, `${bundle.content.dsseEnvelope.signatures.length} signatures, expected 1`);
  return bundle;
}

function signatureInvalid(source: string, cause?: unknown): EdgeforgeError {
  return new EdgeforgeError("SIGNATURE_INVALID", `the signature in ${source} does not match its statement: the statement or the signature was edited`, {
    hint: "re-sign the model; never edit a signature file by hand",
    details: { source },
    cause,
  });
}

/**
 * Check a key-mode bundle offline and return its statement. P-256 signatures are checked by
 * @sigstore/verify (thresholds 0, the public key as the only trust material). @sigstore/verify 3.1
 * verifies EC signatures with SHA-256 only, while OMS pairs P-384 with SHA-384 and P-521 with
 * SHA-512, so those two are checked with node:crypto over the same DSSE pre-authentication encoding.
 */
export function verifyStatementBundle(json: unknown, publicKey: PublicSigningKey, source = "the signature"): InTotoStatement {
  const bundle = parseBundle(json, source);
  const hint = bundle.verificationMaterial.content.$case === "publicKey" ? bundle.verificationMaterial.content.publicKey.hint : "";
  if (hint !== publicKey.hint) {
    throw new EdgeforgeError("SIGNATURE_KEY_MISMATCH", `${source} was signed with a different key (key hint ${hint.slice(0, 16)}…, the given key is ${publicKey.hint.slice(0, 16)}…)`, {
      hint: "verify with the public key that belongs to the signer's private key",
      details: { source, signatureKeyHint: hint, givenKeyHint: publicKey.hint },
    });
  }
  if (bundle.content.$case !== "dsseEnvelope") throw malformed(source, "it carries no DSSE envelope");
  const envelope = bundle.content.dsseEnvelope;
  if (publicKey.curve === "P-256") {
    const trust: TrustMaterial = {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: () => ({ publicKey: publicKey.key, validFor: () => true }),
    };
    try {
      new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
    } catch (error) {
      if (error instanceof VerificationError) throw signatureInvalid(source, error);
      throw error;
    }
  } else {
    const signature = envelope.signatures[0]?.sig ?? Buffer.alloc(0);
    const encoded = dsse.preAuthEncoding(envelope.payloadType, envelope.payload);
    if (!verify(signatureHashFor(publicKey.curve), encoded, publicKey.key, signature)) throw signatureInvalid(source);
  }
  let statement: unknown;
  try {
    statement = JSON.parse(envelope.payload.toString("utf8"));
  } catch (error) {
    throw malformed(source, "its payload is not JSON", error);
  }
  const record = statement as Partial<InTotoStatement> | null;
  if (record?._type !== inTotoStatementType || !Array.isArray(record.subject) || typeof record.predicateType !== "string") {
    throw malformed(source, `its payload is not an in-toto Statement v1`);
  }
  return record as InTotoStatement;
}
