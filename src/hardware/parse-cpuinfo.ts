import { describeArmCpu } from "./arm-cpu-parts.js";
import type { CpuVendor } from "./hardware-report.js";

/** The facts /proc/cpuinfo gives, read from its text (x86 and ARM layouts). */
export interface CpuinfoFacts {
  processorCount: number;
  model?: string;
  vendor: CpuVendor;
  /** x86 "flags" or ARM "Features" of the first processor, lowercased. */
  flags: string[];
  /** Distinct (physical id, core id) pairs; absent when the file does not carry them (ARM). */
  physicalCores?: number;
  /** ARM boards print the board name at the end ("Model : Raspberry Pi 5 Model B Rev 1.0"). */
  boardModel?: string;
}

type Stanza = Map<string, string>;

function splitStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = new Map();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (line.trim() === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      continue;
    }
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!current.has(key)) current.set(key, line.slice(colon + 1).trim());
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

const x86Vendors: Record<string, CpuVendor> = {
  GenuineIntel: "intel",
  AuthenticAMD: "amd",
  HygonGenuine: "amd",
};

export function parseCpuinfo(text: string): CpuinfoFacts {
  const stanzas = splitStanzas(text);
  const processors = stanzas.filter((stanza) => stanza.has("processor"));
  const first = processors[0] ?? new Map<string, string>();
  const flagsText = first.get("flags") ?? first.get("features") ?? "";
  const flags = flagsText.split(/\s+/).filter(Boolean).map((flag) => flag.toLowerCase());

  const coreKeys = new Set<string>();
  for (const stanza of processors) {
    const core = stanza.get("core id");
    if (core !== undefined) coreKeys.add(`${stanza.get("physical id") ?? "0"}:${core}`);
  }

  let vendor: CpuVendor = "unknown";
  let model = first.get("model name");
  const vendorId = first.get("vendor_id");
  const implementer = first.get("cpu implementer");
  if (vendorId !== undefined) {
    vendor = x86Vendors[vendorId] ?? "other";
  } else if (implementer !== undefined) {
    const arm = describeArmCpu(implementer, first.get("cpu part"));
    vendor = arm.vendor;
    model ??= arm.model;
  }

  // Board lines ("Model", "Hardware") sit in a trailing stanza without "processor".
  const boardStanza = stanzas.find((stanza) => !stanza.has("processor") && (stanza.has("model") || stanza.has("hardware")));
  const boardModel = boardStanza?.get("model") ?? boardStanza?.get("hardware");

  return {
    processorCount: processors.length,
    ...(model ? { model } : {}),
    vendor,
    flags,
    ...(coreKeys.size > 0 ? { physicalCores: coreKeys.size } : {}),
    ...(boardModel ? { boardModel } : {}),
  };
}
