/**
 * @module tenants/tenant-record: the tenant's one row in its Durable Object: its name and policy.
 * The tenant exists when the row does.
 */
import type { Policy } from "../ratelimit/policy";
import type { Schema } from "../storage/migrations";

/** A tenant as the admin API shows it. */
export interface TenantView {
  tenant: string;
  policy: Policy;
  created_at: string;
  updated_at: string;
}

/** The tenant table; version 1 is the schema from before versioning. */
export const TENANT_SCHEMA: Schema = {
  name: "tenant",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS tenant (
  id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, policy TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  ],
};

/** The tenant, or null if it was never created. */
export function readTenant(sql: SqlStorage): TenantView | null {
  const row = sql
    .exec<{ name: string; policy: string; created_at: string; updated_at: string }>("SELECT name, policy, created_at, updated_at FROM tenant WHERE id = 1")
    .toArray()[0];
  // Policies stored before `admission` existed keep the exact admission they were created with.
  return row ? { tenant: row.name, policy: { admission: "exact", ...(JSON.parse(row.policy) as Omit<Policy, "admission">) } as Policy, created_at: row.created_at, updated_at: row.updated_at } : null;
}

/** Creates the tenant with `policy`, or replaces the policy of the one that exists; says which. */
export function writePolicy(sql: SqlStorage, name: string, policy: Policy, now: string): { created: boolean } {
  const exists = sql.exec("SELECT 1 FROM tenant WHERE id = 1").toArray().length > 0;
  if (exists) sql.exec("UPDATE tenant SET policy = ?, updated_at = ? WHERE id = 1", JSON.stringify(policy), now);
  else sql.exec("INSERT INTO tenant (id, name, policy, created_at, updated_at) VALUES (1, ?, ?, ?, ?)", name, JSON.stringify(policy), now, now);
  return { created: !exists };
}
