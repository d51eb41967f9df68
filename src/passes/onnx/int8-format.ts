import { readLinuxCpuInfo } from "../../hardware/read-cpu-info.js";

export interface Int8Format {
  activationType: "uint8" | "int8";
  reduceRange: boolean;
  /** Why, for the pass log. */
  reason: string;
}

/**
 * onnxruntime's guidance for static int8 on CPU: U8S8 (uint8 activations, int8 weights) on x86-64,
 * where VNNI (or AMX) multiplies u8×s8 without overflow; without VNNI the u8×s8 pair products of
 * vpmaddubsw can saturate int16, so weights get 7 bits (reduce range); S8S8 on ARM64, whose dot
 * product instructions are signed.
 */
export function chooseInt8Format(architecture: string, features: readonly string[]): Int8Format {
  if (architecture === "arm64" || architecture === "arm") {
    return { activationType: "int8", reduceRange: false, reason: "ARM CPU: S8S8 (signed activations and weights), as onnxruntime recommends there" };
  }
  const vnni = features.find((f) => f === "avx512_vnni" || f === "avx_vnni" || f === "amx_int8");
  if (vnni) return { activationType: "uint8", reduceRange: false, reason: `x86 CPU with ${vnni}: U8S8, full 8-bit weights` };
  return { activationType: "uint8", reduceRange: true, reason: "x86 CPU without VNNI: U8S8 with 7-bit weights (reduce range) so u8×s8 products cannot saturate" };
}

/** The format for the CPU this process runs on (features from /proc/cpuinfo; none known elsewhere). */
export async function detectInt8Format(signal?: AbortSignal): Promise<Int8Format> {
  const features = process.platform === "linux" ? (await readLinuxCpuInfo(signal)).cpu.features : [];
  return chooseInt8Format(process.arch, features);
}
