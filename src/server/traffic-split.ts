/** How a model name's unversioned requests are divided between its stable and candidate versions. */
export interface TrafficSplit {
  stable: string;
  candidate?: string;
  /** Fraction 0–1 of requests for the candidate. */
  candidateWeight: number;
}

/**
 * A request id mapped to [0, 1): FNV-1a (32 bit) with murmur3's finalizer, so ids that differ only in
 * their last characters spread evenly. The same id always lands on the same side, and stays there as the weight grows.
 */
export function requestPosition(requestId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i += 1) {
    hash ^= requestId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4294967296;
}

/** The version a request goes to: deterministic by request id when there is one, random otherwise. */
export function pickVersion(split: TrafficSplit, requestId: string | undefined, random: () => number = Math.random): string {
  if (split.candidate === undefined || split.candidateWeight <= 0) return split.stable;
  if (split.candidateWeight >= 1) return split.candidate;
  const position = requestId === undefined ? random() : requestPosition(requestId);
  return position < split.candidateWeight ? split.candidate : split.stable;
}

/** The `x-request-id` header's value, if any (the first one when repeated). */
export function requestIdHeader(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value === "" ? undefined : value;
}

/** Largest JSON body parsed on the server's thread only to find its `id` (bigger bodies need an x-request-id header). */
export const maxIdScanBytes = 64 * 1024;

/**
 * The id to split an OIP request by: the `x-request-id` header, else the request's own `id` field — read
 * from the JSON header of a binary request, or from a JSON body up to 64 KiB. Undefined otherwise (random split).
 */
export function oipRequestId(header: string | string[] | undefined, body: Uint8Array, jsonHeaderLength: number | undefined): string | undefined {
  const fromHeader = requestIdHeader(header);
  if (fromHeader) return fromHeader;
  const jsonLength = jsonHeaderLength ?? body.byteLength;
  if (!Number.isSafeInteger(jsonLength) || jsonLength > maxIdScanBytes || jsonLength > body.byteLength) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, jsonLength).toString("utf8")) as { id?: unknown };
    return typeof parsed.id === "string" && parsed.id !== "" ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
