import { readReport } from "../reports/read-report.js";
import { registerOptimizeReport } from "../registry/register-optimize-report.js";
import { Registry } from "../registry/registry.js";
import type { ArtifactRecord, VersionRecord } from "../registry/registry-types.js";

export { Registry, parseModelRef, type AddVersionOptions, type RecordEvaluationOptions, type SetAliasOptions, type RegistryOptions } from "../registry/registry.js";
export { resolveRegistryModel } from "../registry/resolve-registry-model.js";
export { resolveRegistryPath } from "../registry/open-registry-database.js";
export { registryMigrations, registrySchemaVersion } from "../registry/registry-schema.js";
export { machineFingerprint, summarizeMachine, type MachineSummary } from "../hardware/machine-summary.js";
export type * from "../registry/registry-types.js";

/** Register the recommended artifact of an optimize report (report.json) as a new version of `model`. */
export async function registerReport(options: { report: string; model: string; registry?: string; command?: string; signal?: AbortSignal }): Promise<VersionRecord & { artifact: ArtifactRecord; evaluations: number }> {
  const report = await readReport(options.report, options.signal);
  using registry = Registry.open(options.registry);
  // `return await`: the registry must stay open until the registration is done.
  return await registerOptimizeReport(registry, report, { model: options.model, command: options.command ?? "registry add --from-report", ...(options.signal ? { signal: options.signal } : {}) });
}
