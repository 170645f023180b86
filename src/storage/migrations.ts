/**
 * @module storage/migrations: versioned schemas for a Durable Object's SQLite tables. Each module
 * that owns tables declares its migrations in order; `migrate` records how far each module got in
 * a table of its own and applies the rest, so a later version can add a column, which
 * `CREATE TABLE IF NOT EXISTS` alone cannot.
 */

/** One step of a module's schema: SQL (several statements allowed) or a function for what SQL cannot say. */
export type Migration = string | ((sql: SqlStorage) => void);

/** A module's tables: its name (the key its version is recorded under) and its migrations, version 1 first. */
export interface Schema {
  name: string;
  migrations: readonly Migration[];
}

/** A migration `migrate` applied. */
export interface Applied {
  module: string;
  version: number;
}

/** The table where each module's applied version is kept (docs/storage-schema.md). */
export const VERSIONS_TABLE = "schema_versions";

/**
 * Applies each module's migrations beyond its recorded version, in order, and records the new
 * versions. Everything happens in one transaction where the storage has them (SQLite-backed
 * objects): a migration that throws leaves the tables and versions as they were. Call it once per
 * object instance, from the constructor, before any query. Returns what it applied.
 */
export function migrate(storage: DurableObjectStorage, schemas: readonly Schema[]): Applied[] {
  const run = () => applyPending(storage.sql, schemas);
  // Older storage types lack transactionSync; SQLite-backed objects have it.
  return typeof storage.transactionSync === "function" ? storage.transactionSync(run) : run();
}

function applyPending(sql: SqlStorage, schemas: readonly Schema[]): Applied[] {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${VERSIONS_TABLE} (module TEXT PRIMARY KEY, version INTEGER NOT NULL)`);
  const recorded = new Map(
    sql.exec<{ module: string; version: number }>(`SELECT module, version FROM ${VERSIONS_TABLE}`).toArray().map((r) => [r.module, r.version]),
  );
  const applied: Applied[] = [];
  for (const { name, migrations } of schemas) {
    // A version beyond this code's (a deploy rolled back) applies nothing: migrations only add.
    const from = recorded.get(name) ?? 0;
    for (let version = from + 1; version <= migrations.length; version++) {
      const step = migrations[version - 1]!;
      if (typeof step === "string") sql.exec(step);
      else step(sql);
      applied.push({ module: name, version });
    }
    if (migrations.length > from) {
      sql.exec(`INSERT INTO ${VERSIONS_TABLE} (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version`, name, migrations.length);
    }
  }
  return applied;
}
