/** @module monitoring/stats-store/cache: a model's response cache lookups by version (hits, misses, their time). */
import type { CacheDelta } from "../histogram";
import type { Schema } from "../../storage/migrations";

/** The cache table; version 1 is the schema from before versioning. */
export const CACHE_SCHEMA: Schema = {
  name: "cache",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS cache (
  version INTEGER PRIMARY KEY, hits INTEGER NOT NULL, misses INTEGER NOT NULL, hit_ms REAL NOT NULL, miss_ms REAL NOT NULL)`,
  ],
};

/** Adds response cache lookups, by version. */
export function recordCache(sql: SqlStorage, cache: readonly CacheDelta[]): void {
  for (const c of cache) {
    sql.exec(
      `INSERT INTO cache (version, hits, misses, hit_ms, miss_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (version) DO UPDATE SET hits = hits + excluded.hits, misses = misses + excluded.misses,
         hit_ms = hit_ms + excluded.hit_ms, miss_ms = miss_ms + excluded.miss_ms`,
      c.version, c.hits, c.misses, c.hit_ms, c.miss_ms);
  }
}

/** Every version's response cache lookups. */
export function cacheStats(sql: SqlStorage): CacheDelta[] {
  return sql.exec<CacheDelta & Record<string, number>>("SELECT * FROM cache ORDER BY version").toArray();
}
