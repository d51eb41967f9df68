import type { Artifact } from "../../core/artifact.js";
import { hashFileSha256 } from "../../core/hashing.js";
import type { Pass } from "../pass.js";

/**
 * The Artifact of a pass that wrote one GGUF file: hashed, with the pass's lineage step appended to its
 * input's. `inputIdentity` is the file whose hash stands for an input without one (default its path; a
 * Hugging Face folder has no single file, so its config.json).
 */
export async function ggufArtifact(
  input: Artifact,
  output: { path: string; sizeBytes: number },
  step: { pass: Pick<Pass, "id" | "version">; options: Record<string, unknown>; inputIdentity?: string },
  signal?: AbortSignal,
): Promise<Artifact & { sha256: string }> {
  const inputSha256 = input.sha256 ?? (await hashFileSha256(step.inputIdentity ?? input.path, signal));
  return {
    format: "gguf",
    path: output.path,
    files: [output.path],
    sizeBytes: output.sizeBytes,
    sha256: await hashFileSha256(output.path, signal),
    lineage: [...input.lineage, { passId: step.pass.id, passVersion: step.pass.version, options: step.options, inputSha256 }],
  };
}
