import type { Reporter } from "../core/logger.js";
import { readPrivateSigningKey } from "../signing/model-signature.js";
import { runCertify, type Certification } from "../workflow/certify/run-certify.js";

export type { Certification, CertifyCheck } from "../workflow/certify/run-certify.js";
export { certifyRequirementsSchema, type CertifyRequirements } from "../workflow/certify/certify-requirements.js";
export { validateSessionInputs, type InputLimits } from "../runtimes/validate-session-inputs.js";

export interface CertifyApiOptions extends Reporter {
  artifact: string;
  /** The optimize report.json the artifact came from. */
  report: string;
  output: string;
  requirements?: string;
  /** Private key PEM path: sign the artifact (OMS) and the attestations. */
  key?: string;
  shapes?: Record<string, number[]>;
  remeasure?: boolean;
  registry?: string;
  /** Register the artifact as a new version of this model, with the certification. */
  register?: string;
  seed?: number;
}

/** Production-readiness validation of an artifact; writes certification.json (and signatures with a key). */
export async function certify(options: CertifyApiOptions): Promise<Certification> {
  const signingKey = options.key ? await readPrivateSigningKey(options.key, options.signal) : undefined;
  return runCertify({
    artifact: options.artifact,
    report: options.report,
    output: options.output,
    ...(options.requirements ? { requirements: options.requirements } : {}),
    ...(signingKey ? { signingKey } : {}),
    ...(options.shapes ? { shapes: options.shapes } : {}),
    ...(options.remeasure ? { remeasure: true } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.register ? { registerAs: options.register } : {}),
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
