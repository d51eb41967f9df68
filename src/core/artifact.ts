/** A model on disk. Lineage is filled by passes; `inspect` describes artifacts it did not create. */
export const modelFormats = ["onnx", "gguf", "safetensors", "mlx", "llama2c"] as const;
export type ModelFormat = (typeof modelFormats)[number];

export interface LineageStep {
  passId: string;
  passVersion: string;
  options: Record<string, unknown>;
  inputSha256: string;
}

export interface Artifact {
  format: ModelFormat;
  /** The main file (or folder, for Hugging Face / MLX layouts). */
  path: string;
  /** Every file that belongs to the artifact (external data, shards, config). */
  files: string[];
  sizeBytes: number;
  sha256?: string;
  lineage: LineageStep[];
}
