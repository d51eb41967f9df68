import { cpuFeatures, type CpuFeature } from "./hardware-report.js";

/** Linux flag spellings → our feature names. Several ARM flags can imply one feature. */
const linuxFlagFeatures: Record<string, CpuFeature> = {
  sse4_2: "sse4.2",
  avx: "avx",
  avx2: "avx2",
  fma: "fma",
  f16c: "f16c",
  avx512f: "avx512f",
  avx512bw: "avx512bw",
  avx512vl: "avx512vl",
  avx512_vnni: "avx512_vnni",
  avx_vnni: "avx_vnni",
  avx512_bf16: "avx512_bf16",
  avx512_fp16: "avx512_fp16",
  amx_tile: "amx_tile",
  amx_int8: "amx_int8",
  amx_bf16: "amx_bf16",
  // arm64 calls NEON "asimd"; 32-bit ARM kernels print "neon".
  asimd: "neon",
  neon: "neon",
  asimddp: "dotprod",
  i8mm: "i8mm",
  sve: "sve",
  sve2: "sve2",
  // Half-precision arithmetic in SIMD registers; "fphp" alone is scalar only.
  asimdhp: "fp16",
  bf16: "bf16",
};

function ordered(features: Set<CpuFeature>): CpuFeature[] {
  return cpuFeatures.filter((feature) => features.has(feature));
}

/** Features from /proc/cpuinfo "flags" (x86) or "Features" (ARM), in a stable order. */
export function featuresFromLinuxFlags(flags: readonly string[]): CpuFeature[] {
  const found = new Set<CpuFeature>();
  for (const flag of flags) {
    const feature = linuxFlagFeatures[flag];
    if (feature) found.add(feature);
  }
  return ordered(found);
}

/** `sysctl` output ("key: value" lines) as a map. */
export function parseSysctl(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([\w.]+)\s*[:=]\s*(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1], match[2].trim());
  }
  return values;
}

const darwinArmKeys: Record<string, CpuFeature> = {
  "hw.optional.neon": "neon",
  "hw.optional.AdvSIMD": "neon",
  "hw.optional.arm.FEAT_DotProd": "dotprod",
  "hw.optional.arm.FEAT_I8MM": "i8mm",
  "hw.optional.arm.FEAT_FP16": "fp16",
  "hw.optional.neon_fp16": "fp16",
  "hw.optional.arm.FEAT_BF16": "bf16",
  "hw.optional.arm.FEAT_SVE": "sve",
  "hw.optional.arm.FEAT_SVE2": "sve2",
};

const darwinX86Keys: Record<string, CpuFeature> = {
  "hw.optional.sse4_2": "sse4.2",
  "hw.optional.avx1_0": "avx",
  "hw.optional.avx2_0": "avx2",
  "hw.optional.fma": "fma",
  "hw.optional.f16c": "f16c",
  "hw.optional.avx512f": "avx512f",
  "hw.optional.avx512bw": "avx512bw",
  "hw.optional.avx512vl": "avx512vl",
  "hw.optional.avx512vnni": "avx512_vnni",
};

/** Features from macOS `sysctl hw` output, where each capability is a `hw.optional.*: 1` line. */
export function featuresFromSysctl(values: ReadonlyMap<string, string>): CpuFeature[] {
  const found = new Set<CpuFeature>();
  for (const [key, feature] of Object.entries({ ...darwinArmKeys, ...darwinX86Keys })) {
    if (values.get(key) === "1") found.add(feature);
  }
  return ordered(found);
}
