import { Registry } from "./registry.js";
import type { ResolvedModel } from "./registry-types.js";

/** Resolve `name@alias`, `name@version` or `name` (latest) in the registry at `registryPath` (default: EDGEFORGE_REGISTRY or ~/.edgeforge/registry.db). */
export function resolveRegistryModel(ref: string, registryPath?: string): ResolvedModel {
  const registry = Registry.open(registryPath, { readonly: true });
  try {
    return registry.resolve(ref);
  } finally {
    registry.close();
  }
}
