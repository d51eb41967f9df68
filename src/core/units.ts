/** Formatting and parsing of quantities. Values carry their unit in their name; these only render. */

const byteUnits = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function formatBytes(sizeBytes: number): string {
  if (!Number.isFinite(sizeBytes)) return String(sizeBytes);
  let value = Math.abs(sizeBytes);
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const sign = sizeBytes < 0 ? "-" : "";
  return `${sign}${unit === 0 ? value.toFixed(0) : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${byteUnits[unit]}`;
}

export function formatCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)} G`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} K`;
  return String(count);
}

export function formatMs(durationMs: number): string {
  if (durationMs < 1) return `${(durationMs * 1000).toFixed(0)} µs`;
  if (durationMs < 1000) return `${durationMs.toFixed(durationMs < 10 ? 2 : 1)} ms`;
  return `${(durationMs / 1000).toFixed(2)} s`;
}

const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib|k|m|g|t)?\s*$/i;
const sizeMultipliers: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "512MB" → 512e6, "8GiB" → 8·2³⁰, "1024" → 1024. Returns undefined when malformed. */
export function parseSizeBytes(text: string): number | undefined {
  const match = sizePattern.exec(text);
  if (!match) return undefined;
  const multiplier = sizeMultipliers[(match[2] ?? "b").toLowerCase()];
  if (multiplier === undefined) return undefined;
  return Math.round(Number(match[1]) * multiplier);
}

export const nsPerMs = 1e6;

export function nsToMs(durationNs: bigint | number): number {
  return Number(durationNs) / nsPerMs;
}

const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i;
const durationMultipliersMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms" → 500, "1.5s" → 1500, "2m" → 120000, "1h". A unit is required; undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (durationMultipliersMs[(match[2] ?? "").toLowerCase()] ?? Number.NaN));
}
