/**
 * @module tenants/keys: the tenant's API key records in its Durable Object, the authority on
 * whether a key is revoked or expired. KV holds only the lookup from a key's hash to its tenant.
 */
import type { Schema } from "../storage/migrations";

/** A key as the tenant's object records it. Never the key itself. */
export interface KeyRecord {
  id: string;
  hash: string;
  prefix: string;
  name: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** What a key's record says of a request made with it now. */
export type KeyStatus = "active" | "revoked_key" | "expired_key";

/** The keys table; version 1 is the schema from before versioning. */
export const KEYS_SCHEMA: Schema = {
  name: "keys",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL, prefix TEXT NOT NULL, name TEXT,
  created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT)`,
  ],
};

/** The key's status at `nowMs`, or null for a key the tenant never had. */
export function keyStatus(sql: SqlStorage, id: string, nowMs: number): KeyStatus | null {
  const key = sql.exec<{ expires_at: string | null; revoked_at: string | null }>("SELECT expires_at, revoked_at FROM keys WHERE id = ?", id).toArray()[0];
  if (!key) return null;
  if (key.revoked_at !== null) return "revoked_key";
  if (key.expires_at !== null && Date.parse(key.expires_at) <= nowMs) return "expired_key";
  return "active";
}

/** Records a new key, not revoked. */
export function insertKey(sql: SqlStorage, record: KeyRecord): void {
  sql.exec(
    "INSERT INTO keys (id, hash, prefix, name, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
    record.id, record.hash, record.prefix, record.name, record.created_at, record.expires_at,
  );
}

/** Every key, newest first. */
export function allKeys(sql: SqlStorage): KeyRecord[] {
  return sql.exec<Record<string, string | null>>("SELECT * FROM keys ORDER BY created_at DESC, id").toArray() as unknown as KeyRecord[];
}

/** Marks a key revoked (keeping the first revocation's time); its record, or null if unknown. */
export function markRevoked(sql: SqlStorage, id: string, now: string): KeyRecord | null {
  sql.exec("UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now, id);
  return (sql.exec<Record<string, string | null>>("SELECT * FROM keys WHERE id = ?", id).toArray()[0] as unknown as KeyRecord) ?? null;
}
