import { writeFileAtomic } from "../core/atomic-write.js";
import { pathExists } from "../core/path-exists.js";
import { EdgeforgeError } from "../core/errors.js";
import { generateSigningKeyPair, type SigningCurve } from "./signing-keys.js";

export interface WrittenKeyPair {
  curve: SigningCurve;
  privateKeyPath: string;
  publicKeyPath: string;
}

/** The public half of `key.pem` goes to `key.pub.pem`. */
export function publicKeyPathFor(privateKeyPath: string): string {
  return privateKeyPath.endsWith(".pem") ? `${privateKeyPath.slice(0, -4)}.pub.pem` : `${privateKeyPath}.pub.pem`;
}

/** Make a key pair and write it: the private key with mode 0600 from its first byte; never overwrites a key unless `overwrite`. */
export async function writeSigningKeyPair(privateKeyPath: string, options: { curve?: SigningCurve; overwrite?: boolean; signal?: AbortSignal } = {}): Promise<WrittenKeyPair> {
  const publicKeyPath = publicKeyPathFor(privateKeyPath);
  if (!options.overwrite) {
    for (const path of [privateKeyPath, publicKeyPath]) {
      const exists = await pathExists(path);
      if (exists) {
        throw new EdgeforgeError("OUTPUT_EQUALS_INPUT", `${path} already exists; a key is never overwritten silently`, {
          hint: "choose another path, or pass --force to replace the key (signatures made with the old key can then no longer be re-made)",
          details: { path },
        });
      }
    }
  }
  const pair = generateSigningKeyPair(options.curve ?? "P-256");
  await writeFileAtomic(privateKeyPath, pair.privateKeyPem, options.signal, 0o600);
  await writeFileAtomic(publicKeyPath, pair.publicKeyPem, options.signal, 0o644);
  return { curve: pair.curve, privateKeyPath, publicKeyPath };
}
