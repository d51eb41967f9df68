import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { EdgeforgeError } from "../core/errors.js";
import { registryApplicationId, registryMigrations, registrySchemaVersion } from "./registry-schema.js";

export type RegistryDatabase = Database.Database;

/** `--registry PATH` > `$EDGEFORGE_REGISTRY` > `~/.edgeforge/registry.db`. */
export function resolveRegistryPath(path?: string): string {
  return resolve(path ?? process.env.EDGEFORGE_REGISTRY ?? join(homedir(), ".edgeforge", "registry.db"));
}

function corrupt(path: string, why: string, cause?: unknown): EdgeforgeError {
  return new EdgeforgeError("REGISTRY_CORRUPT", `${path} is not a usable edgeforge registry: ${why}`, {
    hint: "the file was left untouched; point --registry (or EDGEFORGE_REGISTRY) at another file, or restore it from a backup (`edgeforge registry export` writes one)",
    details: { path },
    cause,
  });
}

function migrate(db: RegistryDatabase, path: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > registrySchemaVersion) {
    throw new EdgeforgeError("UNSUPPORTED_FEATURE", `${path} has registry schema ${current}; this edgeforge knows up to ${registrySchemaVersion}`, {
      hint: "upgrade edgeforge to read this registry",
      details: { path, schemaVersion: current },
    });
  }
  for (const migration of registryMigrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if ((db.pragma("user_version", { simple: true }) as number) >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

/**
 * Open (creating if needed) the registry database: WAL, foreign keys, a busy timeout so concurrent
 * writers queue instead of failing, integrity and identity checked before anything is written.
 */
export function openRegistryDatabase(path: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): RegistryDatabase {
  let db: RegistryDatabase;
  try {
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 30_000 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "SQLITE_CANTOPEN") {
      throw new EdgeforgeError("FILE_NOT_FOUND", `cannot open the registry ${path}`, { hint: "check the path, or register a model first (`edgeforge registry add`)", details: { path }, cause: error });
    }
    throw corrupt(path, error instanceof Error ? error.message : String(error), error);
  }
  try {
    const check = db.pragma("quick_check", { simple: true }) as string;
    if (check !== "ok") throw corrupt(path, `integrity check: ${check}`);
    const applicationId = db.pragma("application_id", { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n;
    if (applicationId !== registryApplicationId && (applicationId !== 0 || tables > 0)) {
      throw corrupt(path, `it is a SQLite file of another program (application_id ${applicationId}, ${tables} schema objects)`);
    }
    if (!options.readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      if (applicationId === 0) db.pragma(`application_id = ${registryApplicationId}`);
    }
    db.pragma("foreign_keys = ON");
    if (!options.readonly) migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    if (EdgeforgeError.isInstance(error)) throw error;
    throw corrupt(path, error instanceof Error ? error.message : String(error), error);
  }
}
