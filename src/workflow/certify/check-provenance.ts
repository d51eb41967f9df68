import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { EdgeforgeError } from "../../core/errors.js";
import { getGgufString } from "../../formats/gguf/gguf-metadata.js";
import { readGgufHeader } from "../../formats/gguf/read-gguf.js";
import { walkNodes } from "../../formats/onnx/graph-walk.js";
import { inspectOnnxModel } from "../../formats/onnx/inspect-onnx.js";
import { readOnnxModel } from "../../formats/onnx/read-onnx.js";
import type { ArtifactContents } from "../../registry/artifact-store.js";
import type { Registry } from "../../registry/registry.js";
import type { CertifyRequirements } from "./certify-requirements.js";

/** Op domains ONNX Runtime implements itself: the standard ones and its contrib ops (quantized kernels). */
const standardOpDomains = ["ai.onnx", "ai.onnx.ml", "com.microsoft"];

export interface SecuritySection {
  files: Array<{ name: string; sha256: string; sizeBytes: number }>;
  maxFileBytes: number;
  oversizedFiles: string[];
  externalData: { files: string[]; insideModelFolder: boolean; error?: string };
  /** Domains the graph's nodes use (subgraphs included). */
  opDomains: string[];
  unknownOpDomains: string[];
  /** Domains the model imports that no node uses (exporters list their own): not a risk, reported. */
  unusedOpDomainImports: string[];
  registryLineage: { checked: boolean; registered: boolean; ancestors: number; note: string };
}

export interface ComplianceSection {
  licence?: string;
  licenceSource: "model" | "requirements" | "missing";
  producer?: string;
  producerSource: "model" | "requirements" | "missing";
  irVersion?: number;
  opsets: Array<{ domain: string; version: number }>;
  runtime: string;
  runtimeVersion: string;
  /** The runtime loaded and ran the artifact during certification. */
  loadedByRuntime: boolean;
}

interface ModelFacts {
  opDomains: string[];
  unusedOpDomainImports?: string[];
  externalData: SecuritySection["externalData"];
  licence?: string;
  producer?: string;
  irVersion?: number;
  opsets: Array<{ domain: string; version: number }>;
}

async function readModelFacts(path: string, format: string): Promise<ModelFacts> {
  if (format === "onnx") {
    try {
      // external locations are checked (inside the folder, bytes present) without reading them
      const file = await readOnnxModel(path, { loadExternalData: false });
      const inspection = inspectOnnxModel(file);
      const metadata = new Map(file.model.metadataProps.map((entry) => [entry.key.toLowerCase(), entry.value]));
      const licence = metadata.get("license") ?? metadata.get("licence");
      const writer = inspection.producerName ? `${inspection.producerName}${inspection.producerVersion ? ` ${inspection.producerVersion}` : ""}` : undefined;
      // edgeforge's passes name themselves as the writer and keep the source's producer: edgeforge alone says nothing about where the model came from.
      const sourceProducer = metadata.get("source_producer");
      const producer = inspection.producerName !== "edgeforge" ? writer : sourceProducer ? `${sourceProducer} (rewritten by ${writer})` : undefined;
      const used = new Set<string>();
      if (file.model.graph) for (const { node } of walkNodes(file.model.graph)) used.add(node.domain === "" ? "ai.onnx" : node.domain);
      return {
        opDomains: [...used].sort(),
        unusedOpDomainImports: inspection.opsetImports.map((o) => o.domain).filter((domain) => !used.has(domain)),
        externalData: { files: inspection.externalData.files, insideModelFolder: true },
        ...(licence ? { licence } : {}),
        ...(producer ? { producer } : {}),
        irVersion: inspection.irVersion,
        opsets: inspection.opsetImports,
      };
    } catch (error) {
      if (EdgeforgeError.isInstance(error) && error.code === "UNSAFE_PATH") return { opDomains: [], externalData: { files: [], insideModelFolder: false, error: error.message }, opsets: [] };
      throw error;
    }
  }
  if (format === "gguf") {
    const header = await readGgufHeader(path);
    const licence = getGgufString(header.metadata, "general.license");
    const author = getGgufString(header.metadata, "general.author") ?? getGgufString(header.metadata, "general.organization");
    const quantizedBy = getGgufString(header.metadata, "general.quantized_by");
    const producer = author ?? quantizedBy;
    return { opDomains: [], externalData: { files: [], insideModelFolder: true }, ...(licence ? { licence } : {}), ...(producer ? { producer } : {}), opsets: [] };
  }
  if (format === "mlx") return { opDomains: [], externalData: await readMlxWeightFiles(path), opsets: [] };
  return { opDomains: [], externalData: { files: [], insideModelFolder: true }, opsets: [] };
}

/** The weight files an MLX folder's model.safetensors.index.json names: each must lie inside the folder. */
async function readMlxWeightFiles(folder: string): Promise<SecuritySection["externalData"]> {
  let text: string;
  try {
    text = await readFile(join(folder, "model.safetensors.index.json"), "utf8");
  } catch {
    return { files: [], insideModelFolder: true };
  }
  const index = JSON.parse(text) as { weight_map?: Record<string, string> };
  const files = [...new Set(Object.values(index.weight_map ?? {}))].sort();
  const outside = files.filter((name) => isAbsolute(name) || relative(folder, resolve(folder, name)).startsWith(".."));
  return { files, insideModelFolder: outside.length === 0, ...(outside.length > 0 ? { error: `model.safetensors.index.json names weight files outside the folder: ${outside.join(", ")}` } : {}) };
}

/** Security (file digests, size limit, external data / MLX weight files, op domains, registry lineage) and compliance (licence, producer, opset/IR, runtime). */
export async function checkProvenance(
  path: string,
  format: string,
  contents: ArtifactContents,
  requirements: CertifyRequirements,
  runtime: { runtime: string; runtimeVersion: string; loaded: boolean },
  registry: Registry | undefined,
): Promise<{ security: SecuritySection; compliance: ComplianceSection }> {
  const facts = await readModelFacts(path, format);
  const allowed = new Set([...standardOpDomains, ...requirements.security.allowedOpDomains]);
  let registryLineage: SecuritySection["registryLineage"] = { checked: false, registered: false, ancestors: 0, note: "no registry given (--registry); lineage not checked" };
  if (registry) {
    const artifact = registry.getArtifact(contents.digest);
    if (!artifact) registryLineage = { checked: true, registered: false, ancestors: 0, note: "these weights are not in the registry: their origin is unrecorded" };
    else {
      let ancestors = 0;
      for (let node = registry.lineage(contents.digest).parent; node; node = node.parent) ancestors++;
      registryLineage = { checked: true, registered: true, ancestors, note: ancestors > 0 ? `registered, with ${ancestors} recorded ancestor(s)` : "registered, but with no recorded parent" };
    }
  }
  const security: SecuritySection = {
    files: contents.files,
    maxFileBytes: requirements.security.maxFileBytes,
    oversizedFiles: contents.files.filter((f) => f.sizeBytes > requirements.security.maxFileBytes).map((f) => f.name),
    externalData: facts.externalData,
    opDomains: facts.opDomains,
    unknownOpDomains: facts.opDomains.filter((d) => !allowed.has(d)),
    unusedOpDomainImports: facts.unusedOpDomainImports ?? [],
    registryLineage,
  };
  const licence = facts.licence ?? requirements.compliance.licence;
  const producer = facts.producer ?? requirements.compliance.producer;
  const compliance: ComplianceSection = {
    ...(licence ? { licence } : {}),
    licenceSource: facts.licence ? "model" : requirements.compliance.licence ? "requirements" : "missing",
    ...(producer ? { producer } : {}),
    producerSource: facts.producer ? "model" : requirements.compliance.producer ? "requirements" : "missing",
    ...(facts.irVersion === undefined ? {} : { irVersion: facts.irVersion }),
    opsets: facts.opsets,
    runtime: runtime.runtime,
    runtimeVersion: runtime.runtimeVersion,
    loadedByRuntime: runtime.loaded,
  };
  return { security, compliance };
}
