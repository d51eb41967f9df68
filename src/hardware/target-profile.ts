import { z } from "zod";
import { modelFormats } from "../core/artifact.js";
import { cpuFeatures } from "./hardware-report.js";

/** The inference frameworks the decision tree chooses between. */
export const frameworks = ["openvino", "mlx", "llama.cpp", "onnxruntime"] as const;
export type Framework = (typeof frameworks)[number];

export const targetPlatforms = ["linux", "darwin", "ios", "android", "windows"] as const;

const acceleratorSchema = z.strictObject({
  kind: z.enum(["gpu", "npu"]),
  vendor: z.string().min(1),
  name: z.string().min(1),
  /** Programming interfaces runtimes reach it through: "cuda", "tensorrt", "metal", "vulkan", "openvino", "qnn"… */
  apis: z.array(z.string().min(1)).default([]),
  /** Dedicated memory; absent when it shares system memory. */
  memoryBytes: z.number().int().positive().optional(),
  sharesSystemMemory: z.boolean(),
  /** Vendor-stated peak INT8 throughput, for orientation only. */
  peakInt8Tops: z.number().positive().optional(),
});

/** The file format of data/targets/<name>.json. */
export const targetProfileFileSchema = z.strictObject({
  schemaVersion: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "kebab-case"),
  description: z.string().min(1),
  os: z.strictObject({ platform: z.enum(targetPlatforms), version: z.string().optional() }),
  cpu: z.strictObject({
    arch: z.enum(["x64", "arm64", "arm"]),
    vendor: z.string().min(1),
    model: z.string().min(1),
    cores: z.number().int().positive(),
    threads: z.number().int().positive(),
    features: z.array(z.enum(cpuFeatures)),
  }),
  memoryBytes: z.number().int().positive(),
  /** What one model may use (weights + KV cache + runtime), after the OS and other apps. */
  memoryBudgetBytes: z.number().int().positive(),
  accelerators: z.array(acceleratorSchema),
  preferredFormats: z.array(z.enum(modelFormats)).min(1),
  preferredRuntimes: z.array(z.enum(frameworks)).min(1),
  notes: z.array(z.string()),
  /** Where the figures come from. */
  sources: z.array(z.url()).min(1),
});

export type TargetProfileFile = z.infer<typeof targetProfileFileSchema>;
export type TargetAccelerator = z.infer<typeof acceleratorSchema>;

/** A Target: a shipped profile or the detected `local` machine. */
export type TargetProfile = Omit<TargetProfileFile, "sources" | "os"> & {
  os: { platform: string; version?: string };
  sources: string[];
  origin: "profile" | "detected";
};
