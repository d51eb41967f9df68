import type { PackageInput } from "./read-package-input.js";

/** Folders inside every package. */
export const packageFolders = { model: "model", certification: "certification" } as const;
export const packageManifestName = "edgeforge-package.json";
export const publicKeyFileName = "release.pub.pem";
/** The port `edgeforge serve` listens on inside containers and units. */
export const defaultServePort = 8080;

/** What a server target runs: the model under a name and version, from a fixed install location. */
export interface ServedModel {
  name: string;
  version: string;
  /** Where the package's `model/` folder is, on the machine or in the image. */
  modelDir: string;
  /** Where the package's `certification/` folder is. */
  certificationDir: string;
  artifactName: string;
  port: number;
  host: string;
  threads: number;
  /** The public key's path there, when the package carries one: the server then verifies the signature on every load. */
  publicKeyPath?: string;
}

const namePattern = /[^A-Za-z0-9._-]+/g;

/** A served name from the artifact's file name (extension dropped), unless given. */
export function servedNameOf(input: PackageInput, name?: string): string {
  if (name) return name;
  const stem = input.artifactName.replace(/\.(onnx|gguf|safetensors)$/i, "");
  return stem.replace(namePattern, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).toLowerCase() || "model";
}

/** The registry version when the certification registered one, else the digest's first 12 hex digits. */
export function servedVersionOf(input: PackageInput, version?: string): string {
  return version ?? input.certification.registry?.version ?? input.contents.digest.slice(0, 12);
}

/** `edgeforge serve` arguments for the served model (the signature is `<model>.sig` beside it; the certification feeds /dashboard). */
export function serveArguments(model: ServedModel): string[] {
  return [
    "--model",
    `${model.name}:${model.version}=${model.modelDir}/${model.artifactName}`,
    "--host",
    model.host,
    "--port",
    String(model.port),
    "--threads",
    String(model.threads),
    "--certification",
    `${model.name}=${model.certificationDir}/certification.json`,
    ...(model.publicKeyPath ? ["--require-signature", "--key", model.publicKeyPath] : []),
  ];
}
