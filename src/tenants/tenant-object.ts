/**
 * @module tenants/tenant-object: one Durable Object per tenant (SQLite-backed, RPC methods). It
 * holds the tenant's record and policy, its keys, and what ratelimit/ keeps for it (the token
 * bucket and daily usage). Every keyed request is decided by an `admit` call made after it
 * arrived; an isolate makes one call at a time per key and model, for all the requests waiting on
 * it (`need`), so one object answers for the tenant and limits hold across all isolates, and a
 * revoked key or changed policy takes effect on the next call everywhere.
 */
import { DurableObject } from "cloudflare:workers";
import { admit, BUCKET_SCHEMA, capBucket, refund, type Admission } from "../ratelimit/limiter";
import { LEASE_FIRST_TOKENS, LEASE_MAX_TOKENS, type Policy } from "../ratelimit/policy";
import { day, USAGE_SCHEMA, usageDays, type UsageDay } from "../ratelimit/usage";
import { migrate, type Schema } from "../storage/migrations";
import { allKeys, insertKey, KEYS_SCHEMA, keyStatus, markRevoked, type KeyRecord } from "./keys";
import { readTenant, TENANT_SCHEMA, writePolicy, type TenantView } from "./tenant-record";

/** The tenant object's tables, each module with its own migrations (storage/migrations). */
export const TENANT_SCHEMAS: readonly Schema[] = [TENANT_SCHEMA, BUCKET_SCHEMA, KEYS_SCHEMA, USAGE_SCHEMA];

/**
 * The Durable Object class bound as TENANTS. Its name is the tenant's name. The class keeps the
 * name it was deployed under: wrangler.toml binds it by class name, and a rename needs a migration.
 */
export class TenantLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, TENANT_SCHEMAS);
  }

  // ---- the hot path ----

  /**
   * Checks the key and model, then takes a token for each of the `need` requests waiting on this
   * call that the bucket holds, counting them against today's quota; a refusal counts all `need`.
   * `unused` gives back tokens of an earlier lease the isolate did not spend; `want` is how many
   * extra tokens a leased isolate would like (its recent demand).
   */
  admit(keyId: string, model: string | null, unused = 0, want = LEASE_FIRST_TOKENS, need = 1): Admission {
    return this.admitAt(Date.now(), keyId, model, unused, want, need);
  }

  /** `admit` at a given time: tests use it to move the clock. */
  admitAt(nowMs: number, keyId: string, model: string | null, unused = 0, want = LEASE_FIRST_TOKENS, need = 1): Admission {
    const tenant = readTenant(this.sql);
    const today = day(nowMs);
    if (unused > 0 && tenant) refund(this.sql, tenant.policy, today, Math.min(unused, LEASE_MAX_TOKENS));
    if (!tenant) return { outcome: "unknown_tenant" };
    const key = keyStatus(this.sql, keyId, nowMs);
    if (!key) return { outcome: "unknown_key" };
    return admit(this.sql, { nowMs, today, policy: tenant.policy, key, model, want, need: Math.max(1, Math.floor(need)) });
  }

  /**
   * Takes back the tokens of a lease that ended unspent (the isolate sends them when the lease
   * ends, if it has not asked again since): into the bucket, out of today's count. So usage
   * counts the requests served, once leases have ended.
   */
  giveBack(unused: number): void {
    this.giveBackAt(Date.now(), unused);
  }

  /** `giveBack` at a given time: tests use it to move the clock. */
  giveBackAt(nowMs: number, unused: number): void {
    const tenant = readTenant(this.sql);
    if (unused > 0 && tenant) refund(this.sql, tenant.policy, day(nowMs), Math.min(Math.floor(unused), LEASE_MAX_TOKENS));
  }

  // ---- administration ----

  /** Creates or replaces the tenant's policy. */
  putPolicy(name: string, policy: Policy): { tenant: TenantView; created: boolean } {
    const { created } = writePolicy(this.sql, name, policy, new Date().toISOString());
    if (!created) capBucket(this.sql, policy.burst);
    return { tenant: readTenant(this.sql)!, created };
  }

  /** The tenant, or null if it was never created. */
  getTenant(): TenantView | null {
    return readTenant(this.sql);
  }

  /** Records a new key; null if the tenant does not exist. */
  addKey(record: KeyRecord): KeyRecord | null {
    if (!readTenant(this.sql)) return null;
    insertKey(this.sql, record);
    return record;
  }

  /** The tenant's keys, newest first; null if the tenant does not exist. */
  listKeys(): KeyRecord[] | null {
    return readTenant(this.sql) ? allKeys(this.sql) : null;
  }

  /** Revokes a key at once; returns its record (with the hash, to delete from KV), or null if unknown. */
  revokeKey(id: string): KeyRecord | null {
    return markRevoked(this.sql, id, new Date().toISOString());
  }

  /** Requests per UTC day, newest first, for the last `days` days; null if the tenant does not exist. */
  usage(days = 30): UsageDay[] | null {
    return readTenant(this.sql) ? usageDays(this.sql, days) : null;
  }
}
