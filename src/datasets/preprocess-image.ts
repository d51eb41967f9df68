import { EdgeforgeError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { PreprocessSpec } from "./dataset-spec.js";

/** Decode, resize and lay out one image as a model input, per the preprocessing spec. */
export async function loadImageTensor(path: string, spec: PreprocessSpec): Promise<Tensor> {
  const { default: sharp } = await import("sharp");
  const channels = spec.channels === "gray" ? 1 : 3;
  let pixels: Buffer;
  try {
    let pipeline = sharp(path, { failOn: "error" }).resize(spec.width, spec.height, {
      fit: spec.fit,
      position: spec.position,
      background: { r: spec.background[0] ?? 0, g: spec.background[1] ?? 0, b: spec.background[2] ?? 0 },
    });
    pipeline = channels === 1 ? pipeline.grayscale() : pipeline.removeAlpha().toColourspace("srgb");
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels || info.width !== spec.width || info.height !== spec.height) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
    }
    pixels = data;
  } catch (error) {
    throw new EdgeforgeError("DATASET_INVALID", `cannot decode image ${path}: ${(error as Error).message}`, {
      hint: "the file is corrupt or not an image; remove it or replace it",
      details: { path },
      cause: error,
    });
  }
  return layOut(pixels, spec, channels);
}

function perChannel(values: readonly number[] | undefined, channels: number, fallback: number, name: string): number[] {
  if (values === undefined) return new Array<number>(channels).fill(fallback);
  if (values.length === 1) return new Array<number>(channels).fill(values[0] as number);
  if (values.length !== channels) {
    throw new EdgeforgeError("INVALID_CONFIG", `preprocess.${name} has ${values.length} values for ${channels} channels`, {
      hint: `give one value, or one per channel (${channels})`,
    });
  }
  return [...values];
}

/** HWC interleaved RGB (or gray) bytes → the requested layout, channel order and dtype. */
function layOut(pixels: Uint8Array, spec: PreprocessSpec, channels: number): Tensor {
  const { width, height } = spec;
  const planar = spec.layout === "nchw" || spec.layout === "chw";
  const batched = spec.layout === "nchw" || spec.layout === "nhwc";
  const spatial = planar ? [channels, height, width] : [height, width, channels];
  const dims = batched ? [1, ...spatial] : spatial;
  const count = width * height * channels;
  const mean = perChannel(spec.mean, channels, 0, "mean");
  const std = perChannel(spec.std, channels, 1, "std");
  if (spec.dtype === "uint8" && (spec.mean !== undefined || spec.std !== undefined)) {
    throw new EdgeforgeError("INVALID_CONFIG", "preprocess.mean/std apply to float32 inputs only", {
      hint: 'drop mean/std, or set "dtype": "float32"',
    });
  }
  const out = spec.dtype === "uint8" ? new Uint8Array(count) : new Float32Array(count);
  const pixelCount = width * height;
  for (let p = 0; p < pixelCount; p += 1) {
    for (let c = 0; c < channels; c += 1) {
      // BGR reverses the decoded RGB order.
      const sourceChannel = spec.channels === "bgr" ? channels - 1 - c : c;
      const value = pixels[p * channels + sourceChannel] as number;
      const target = planar ? c * pixelCount + p : p * channels + c;
      out[target] = spec.dtype === "uint8" ? value : (value / spec.scale - (mean[c] as number)) / (std[c] as number);
    }
  }
  return { dtype: spec.dtype, dims, data: out };
}
