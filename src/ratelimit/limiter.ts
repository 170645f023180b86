/**
 * @module ratelimit/limiter: one Durable Object per tenant (SQLite-backed, RPC methods). It holds
 * the tenant's policy, its keys' states, a token bucket and daily usage. Every keyed request is
 * decided by an `admit` call made after it arrived; an isolate makes one call at a time per key
 * and model, for all the requests waiting on it (`need`), so one object answers for the tenant
 * and limits hold across all isolates, and a revoked key or changed policy takes effect on the
 * next call everywhere. With leased admission (the default) `admit` may also hand the isolate a
 * few tokens to spend within LEASE_MS (never more than the bucket holds; unspent ones come back
 * when the lease ends, or with the next call).
 */
import { DurableObject } from "cloudflare:workers";
import { LEASE_FIRST_TOKENS, LEASE_MAX_TOKENS, LEASE_MS, type Policy } from "./policy";
import { takeToken } from "./token-bucket";

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

/** A tenant as the admin API shows it. */
export interface TenantView {
  tenant: string;
  policy: Policy;
  created_at: string;
  updated_at: string;
}

/** Requests seen on one UTC day. */
export interface UsageDay {
  date: string;
  accepted: number;
  rejected_rate_limit: number;
  rejected_quota: number;
  rejected_forbidden: number;
}

/** Rate-limit figures for the response headers. */
export interface Limits {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Tokens beyond this request's, for the isolate to spend without asking again (leased admission). */
export interface Lease {
  tokens: number;
  ttlMs: number;
}

/** The answer to `admit`. */
export type Admission =
  /** `granted` (1 when absent) of the `need` requests the call was made for pass; the rest ask again. */
  | ({ outcome: "allowed"; granted?: number; lease?: Lease } & Limits)
  | ({ outcome: "rate_limited"; retryAfterSeconds: number } & Limits)
  | ({ outcome: "quota_exceeded"; retryAfterSeconds: number; quota: number } & Limits)
  | { outcome: "unknown_tenant" | "unknown_key" | "revoked_key" | "expired_key" | "model_forbidden" };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tenant (
  id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, policy TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bucket (id INTEGER PRIMARY KEY CHECK (id = 1), tokens REAL NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL, prefix TEXT NOT NULL, name TEXT,
  created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS usage (
  day TEXT PRIMARY KEY, accepted INTEGER NOT NULL DEFAULT 0, rejected_rate_limit INTEGER NOT NULL DEFAULT 0,
  rejected_quota INTEGER NOT NULL DEFAULT 0, rejected_forbidden INTEGER NOT NULL DEFAULT 0);
`;

const USAGE_DAYS_KEPT = 90;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const secondsToMidnight = (ms: number) => Math.ceil((Date.UTC(...utcTomorrow(ms)) - ms) / 1000);
function utcTomorrow(ms: number): [number, number, number] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1];
}

/** The Durable Object class bound as TENANTS. Its name is the tenant's name. */
export class TenantLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
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
    if (unused > 0) this.refund(day(nowMs), Math.min(unused, LEASE_MAX_TOKENS));
    const n = Math.max(1, Math.floor(need));
    const tenant = this.tenant();
    if (!tenant) return { outcome: "unknown_tenant" };
    const key = this.sql.exec<{ expires_at: string | null; revoked_at: string | null }>(
      "SELECT expires_at, revoked_at FROM keys WHERE id = ?", keyId).toArray()[0];
    if (!key) return { outcome: "unknown_key" };
    const today = day(nowMs);
    if (key.revoked_at !== null) return this.count(today, "rejected_forbidden", { outcome: "revoked_key" }, n);
    if (key.expires_at !== null && Date.parse(key.expires_at) <= nowMs) {
      return this.count(today, "rejected_forbidden", { outcome: "expired_key" }, n);
    }
    const { policy } = tenant;
    if (model !== null && policy.models !== "*" && !policy.models.includes(model)) {
      return this.count(today, "rejected_forbidden", { outcome: "model_forbidden" }, n);
    }
    const bucket = this.sql.exec<{ tokens: number; at_ms: number }>("SELECT tokens, at_ms FROM bucket WHERE id = 1").toArray()[0];
    const state = bucket ? { tokens: bucket.tokens, atMs: bucket.at_ms } : { tokens: policy.burst, atMs: nowMs };
    const used = this.usageOf(today).accepted;
    const quotaLeft = policy.daily_quota === null ? Infinity : policy.daily_quota - used;
    const take = takeToken(state, policy.burst, policy.requests_per_minute, nowMs, quotaLeft > 0);
    this.sql.exec("INSERT OR REPLACE INTO bucket (id, tokens, at_ms) VALUES (1, ?, ?)", take.state.tokens, take.state.atMs);
    const limits = { limit: policy.burst, remaining: take.remaining, resetSeconds: take.resetSeconds };
    if (quotaLeft <= 0) {
      return this.count(today, "rejected_quota", {
        outcome: "quota_exceeded", quota: policy.daily_quota!, retryAfterSeconds: secondsToMidnight(nowMs), ...limits,
      }, n);
    }
    if (!take.allowed) {
      return this.count(today, "rejected_rate_limit", { outcome: "rate_limited", retryAfterSeconds: take.retryAfterSeconds, ...limits }, n);
    }
    // The other requests waiting on this call, as far as the bucket and quota go: they are served
    // at once, so they are taken whatever the admission.
    const more = Math.max(0, Math.min(n - 1, Math.floor(take.state.tokens), quotaLeft - 1));
    // Leased: hand out a few more tokens for later requests (counted as accepted now; unspent ones come back).
    const extra =
      policy.admission !== "leased"
        ? 0
        : Math.max(0, Math.min(Math.floor(want), LEASE_MAX_TOKENS, Math.floor(policy.burst / 10), Math.floor(take.state.tokens) - more, quotaLeft - 1 - more));
    if (more + extra > 0) this.sql.exec("UPDATE bucket SET tokens = tokens - ? WHERE id = 1", more + extra);
    const allowed = {
      outcome: "allowed" as const,
      ...limits,
      remaining: limits.remaining - more - extra,
      ...(more > 0 ? { granted: 1 + more } : {}),
      ...(extra > 0 ? { lease: { tokens: extra, ttlMs: LEASE_MS } } : {}),
    };
    return this.count(today, "accepted", allowed, 1 + more + extra);
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
    if (unused > 0) this.refund(day(nowMs), Math.min(Math.floor(unused), LEASE_MAX_TOKENS));
  }

  /** Takes back tokens an isolate leased but did not spend: into the bucket, out of today's count. */
  private refund(today: string, tokens: number): void {
    const tenant = this.tenant();
    if (!tenant) return;
    this.sql.exec("UPDATE bucket SET tokens = MIN(?, tokens + ?) WHERE id = 1", tenant.policy.burst, tokens);
    this.sql.exec("UPDATE usage SET accepted = MAX(0, accepted - ?) WHERE day = ?", tokens, today);
  }

  // ---- administration ----

  /** Creates or replaces the tenant's policy. */
  putPolicy(name: string, policy: Policy): { tenant: TenantView; created: boolean } {
    const now = new Date().toISOString();
    const existing = this.tenant();
    if (existing) {
      this.sql.exec("UPDATE tenant SET policy = ?, updated_at = ? WHERE id = 1", JSON.stringify(policy), now);
      // A smaller burst takes effect at once.
      this.sql.exec("UPDATE bucket SET tokens = MIN(tokens, ?) WHERE id = 1", policy.burst);
    } else {
      this.sql.exec("INSERT INTO tenant (id, name, policy, created_at, updated_at) VALUES (1, ?, ?, ?, ?)", name, JSON.stringify(policy), now, now);
    }
    return { tenant: this.tenant()!, created: !existing };
  }

  /** The tenant, or null if it was never created. */
  getTenant(): TenantView | null {
    return this.tenant();
  }

  /** Records a new key; null if the tenant does not exist. */
  addKey(record: KeyRecord): KeyRecord | null {
    if (!this.tenant()) return null;
    this.sql.exec(
      "INSERT INTO keys (id, hash, prefix, name, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
      record.id, record.hash, record.prefix, record.name, record.created_at, record.expires_at,
    );
    return record;
  }

  /** The tenant's keys, newest first; null if the tenant does not exist. */
  listKeys(): KeyRecord[] | null {
    if (!this.tenant()) return null;
    return this.sql.exec<Record<string, string | null>>("SELECT * FROM keys ORDER BY created_at DESC, id").toArray() as unknown as KeyRecord[];
  }

  /** Revokes a key at once; returns its record (with the hash, to delete from KV), or null if unknown. */
  revokeKey(id: string): KeyRecord | null {
    this.sql.exec("UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", new Date().toISOString(), id);
    return (this.sql.exec<Record<string, string | null>>("SELECT * FROM keys WHERE id = ?", id).toArray()[0] as unknown as KeyRecord) ?? null;
  }

  /** Requests per UTC day, newest first, for the last `days` days; null if the tenant does not exist. */
  usage(days = 30): UsageDay[] | null {
    if (!this.tenant()) return null;
    return this.sql
      .exec<{ day: string; accepted: number; rejected_rate_limit: number; rejected_quota: number; rejected_forbidden: number }>(
        "SELECT * FROM usage ORDER BY day DESC LIMIT ?", days)
      .toArray()
      .map(({ day: date, ...counts }) => ({ date, ...counts }));
  }

  // ---- storage ----

  private tenant(): TenantView | null {
    const row = this.sql.exec<{ name: string; policy: string; created_at: string; updated_at: string }>(
      "SELECT name, policy, created_at, updated_at FROM tenant WHERE id = 1").toArray()[0];
    // Policies stored before `admission` existed keep the exact admission they were created with.
    return row ? { tenant: row.name, policy: { admission: "exact", ...(JSON.parse(row.policy) as Omit<Policy, "admission">) } as Policy, created_at: row.created_at, updated_at: row.updated_at } : null;
  }

  private usageOf(today: string): { accepted: number } {
    const row = this.sql.exec<{ accepted: number }>("SELECT accepted FROM usage WHERE day = ?", today).toArray()[0];
    // The first request of a day prunes days past retention; other requests skip the work.
    if (!row) this.sql.exec("DELETE FROM usage WHERE day < ?", day(Date.parse(today) - USAGE_DAYS_KEPT * 86_400_000));
    return row ?? { accepted: 0 };
  }

  private count<A extends Admission>(today: string, column: keyof Omit<UsageDay, "date">, admission: A, requests = 1): A {
    this.sql.exec(`INSERT INTO usage (day, ${column}) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET ${column} = ${column} + ?`, today, requests, requests);
    return admission;
  }
}
