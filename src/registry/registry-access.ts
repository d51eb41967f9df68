import type { RegistryDatabase } from "./open-registry-database.js";
import type { AliasEvent } from "./registry-types.js";

/** What the registry's record helpers (events, rollouts) share with it: the database and its in-transaction primitives. */
export interface RegistryAccess {
  db: RegistryDatabase;
  timestamp(): string;
  /** One immediate transaction (nested calls join the outer one). */
  write<T>(fn: () => T): T;
  modelId(name: string): number;
  versionId(model: string, version: string): number;
  /** Move an alias inside the current transaction, with its audit row. */
  moveAlias(options: { model: string; alias: string; version: string; reason: string; command: string; actor?: string; details?: Record<string, unknown> }): AliasEvent;
}
