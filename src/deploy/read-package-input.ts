import { basename, join, resolve } from "node:path";
import { pathExists } from "../core/path-exists.js";
import { EdgeforgeError } from "../core/errors.js";
import { detectModelFormat } from "../formats/detect-format.js";
import { describeArtifactContents, type ArtifactContents } from "../registry/artifact-store.js";
import { rootDigestOf } from "../signing/model-manifest.js";
import { readPublicSigningKey, readSignatureBundle, verifyModelSignature } from "../signing/model-signature.js";
import { readCertificationFacts, type CertificationFacts } from "./certification-facts.js";

/** The attestations `certify --key` writes beside certification.json (all optional here). */
export const attestationFileNames = ["provenance.sigstore.json", "test-result.sigstore.json", "verification-summary.sigstore.json"] as const;

/** The artifact alone: enough for the checks that need no certification (mobile budgets). */
export interface ArtifactInput {
  artifactPath: string;
  artifactName: string;
  format: string;
  contents: ArtifactContents;
}

export interface PackageInput extends ArtifactInput {
  certificationDir: string;
  certification: CertificationFacts;
  /** The OMS bundle over the artifact (`ARTIFACT.sig` in the certification folder). */
  signaturePath: string;
  /** Attestation files present in the certification folder. */
  attestationPaths: string[];
  /** Public key, when given: the signature was verified with it. */
  publicKeyPath?: string;
}


function signedDigest(bundle: unknown): string | undefined {
  const payload = (bundle as { dsseEnvelope?: { payload?: unknown } } | undefined)?.dsseEnvelope?.payload;
  if (typeof payload !== "string") return undefined;
  try {
    const statement = JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as { subject?: Array<{ digest?: { sha256?: string } }> };
    return statement.subject?.[0]?.digest?.sha256;
  } catch {
    return undefined;
  }
}

export async function readArtifactInput(artifact: string, signal?: AbortSignal): Promise<ArtifactInput> {
  const artifactPath = resolve(artifact);
  const [{ format }, contents] = await Promise.all([detectModelFormat(artifactPath), describeArtifactContents(artifactPath, signal)]);
  return { artifactPath, artifactName: basename(artifactPath), format, contents };
}

/**
 * The artifact and its certification folder, checked to belong together: the artifact's digest is
 * the one certified, the certification approved it, and its OMS signature names the same digest
 * (fully verified when a public key is given). Nothing is packaged from a mismatched pair.
 */
export async function readPackageInput(artifact: ArtifactInput, certificationDir: string, options: { publicKey?: string; signal?: AbortSignal } = {}): Promise<PackageInput> {
  const { artifactPath, contents } = artifact;
  const dir = resolve(certificationDir);
  const certification = await readCertificationFacts(dir, options.signal);
  if (certification.artifact.sha256 !== contents.digest) {
    throw new EdgeforgeError("CERTIFICATE_MISMATCH", `${basename(artifactPath)} (sha256 ${contents.digest.slice(0, 16)}…) is not the artifact certified in ${dir} (${certification.artifact.name}, sha256 ${certification.artifact.sha256.slice(0, 16)}…)`, {
      hint: "pass the certification folder written for this artifact, or certify this artifact first",
      details: { artifactSha256: contents.digest, certifiedSha256: certification.artifact.sha256 },
    });
  }
  if (!certification.approval.approved) {
    const failed = certification.approval.failed.map((f) => `${f.section}: ${f.name} (${f.reason})`);
    throw new EdgeforgeError("NOT_APPROVED", `the certification did not approve ${certification.artifact.name}: ${failed.length} required check(s) failed — ${failed.slice(0, 3).join("; ")}`, {
      hint: "fix what failed and certify again; only approved artifacts are packaged for deployment",
      details: { failed: certification.approval.failed },
    });
  }
  const signaturePath = join(dir, `${basename(artifactPath)}.sig`);
  const certifiedSignature = join(dir, `${certification.artifact.name}.sig`);
  const signature = (await pathExists(signaturePath)) ? signaturePath : (await pathExists(certifiedSignature)) ? certifiedSignature : undefined;
  if (!signature) {
    throw new EdgeforgeError("FILE_NOT_FOUND", `no signature ${basename(signaturePath)} in ${dir}: every package carries the artifact's signature`, {
      hint: "certify with a key (`edgeforge certify … --key KEY.pem`), which signs the artifact into the certification folder",
      details: { path: signaturePath },
    });
  }
  const bundle = await readSignatureBundle(signature, options.signal);
  if (options.publicKey) {
    await verifyModelSignature(artifactPath, bundle, await readPublicSigningKey(options.publicKey, options.signal), { signaturePath: signature, ...(options.signal ? { signal: options.signal } : {}) });
  } else if (signedDigest(bundle) !== rootDigestOf(contents.manifest.resources)) {
    throw new EdgeforgeError("CERTIFICATE_MISMATCH", `the signature ${signature} does not name this artifact's digest (${contents.digest.slice(0, 16)}…)`, {
      hint: "the certification folder holds another artifact's signature; certify this artifact again",
      details: { signaturePath: signature, artifactSha256: contents.digest, signedSha256: signedDigest(bundle) },
    });
  }
  const attestationPaths: string[] = [];
  for (const name of attestationFileNames) if (await pathExists(join(dir, name))) attestationPaths.push(join(dir, name));
  return {
    ...artifact,
    certificationDir: dir,
    certification,
    signaturePath: signature,
    attestationPaths,
    ...(options.publicKey ? { publicKeyPath: resolve(options.publicKey) } : {}),
  };
}
