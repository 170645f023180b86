/** Versioned schemas (src/storage/migrations.ts) and the two Durable Objects that use them. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ModelStats, MODEL_STATS_SCHEMAS } from "../src/monitoring/model-stats";
import { migrate, VERSIONS_TABLE, type Schema } from "../src/storage/migrations";
import { TENANT_SCHEMAS, TenantLimiter } from "../src/tenants/tenant-object";
import { testEnv } from "./support/helpers";

const tenantStub = (name: string) => testEnv.TENANTS.get(testEnv.TENANTS.idFromName(name));
const statsStub = (name: string) => testEnv.MODEL_STATS.get(testEnv.MODEL_STATS.idFromName(name));
const workerEnv = env as unknown as Env;

/** The tenant object's tables as they were created before migrations existed. */
const OLD_TENANT_SCHEMA = `
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

/** Two of the model statistics object's tables as they were created before migrations existed. */
const OLD_STATS_SCHEMA = `
CREATE TABLE IF NOT EXISTS loads (
  version INTEGER PRIMARY KEY, cold INTEGER NOT NULL, failed INTEGER NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cache (
  version INTEGER PRIMARY KEY, hits INTEGER NOT NULL, misses INTEGER NOT NULL, hit_ms REAL NOT NULL, miss_ms REAL NOT NULL);
`;

/** Drops every table of the object, the versions table included: storage as a new object has it. */
function dropAll(sql: SqlStorage): void {
  const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'").toArray();
  for (const { name } of tables) sql.exec(`DROP TABLE "${name}"`);
}

const versions = (sql: SqlStorage) =>
  Object.fromEntries(sql.exec<{ module: string; version: number }>(`SELECT module, version FROM ${VERSIONS_TABLE}`).toArray().map((r) => [r.module, r.version]));
const columns = (sql: SqlStorage, table: string) => sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name);

describe("an object created before migrations existed", () => {
  it("keeps the tenant's record, keys, bucket and usage, and records version 1 of each module", async () => {
    await runInDurableObject(tenantStub("migrate-old-tenant"), (_: TenantLimiter, state) => {
      const sql = state.storage.sql;
      dropAll(sql);
      sql.exec(OLD_TENANT_SCHEMA);
      const policy = { requests_per_minute: 60, burst: 5, daily_quota: null, models: "*" };
      sql.exec("INSERT INTO tenant (id, name, policy, created_at, updated_at) VALUES (1, 'migrate-old-tenant', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')", JSON.stringify(policy));
      sql.exec("INSERT INTO keys (id, hash, prefix, name, created_at, expires_at, revoked_at) VALUES ('key_old', 'h', 'eik_abcdef', 'old', '2026-01-01T00:00:00.000Z', NULL, NULL)");
      sql.exec("INSERT INTO bucket (id, tokens, at_ms) VALUES (1, 2, ?)", Date.now());
      sql.exec("INSERT INTO usage (day, accepted) VALUES ('2026-01-01', 7)");

      // A new instance over the same storage: what a deploy of this code finds.
      const limiter = new TenantLimiter(state, workerEnv);
      expect(versions(sql)).toEqual({ tenant: 1, bucket: 1, keys: 1, usage: 1 });
      expect(limiter.getTenant()).toMatchObject({ tenant: "migrate-old-tenant", policy: { ...policy, admission: "exact" } });
      expect(limiter.listKeys()!.map((k) => k.id)).toEqual(["key_old"]);
      expect(limiter.usage()!.find((d) => d.date === "2026-01-01")?.accepted).toBe(7);
      // The bucket held 2 tokens: the third request in a row is refused.
      const outcomes = [0, 1, 2].map(() => limiter.admit("key_old", null).outcome);
      expect(outcomes).toEqual(["allowed", "allowed", "rate_limited"]);
    });
  });

  it("keeps the model's figures", async () => {
    await runInDurableObject(statsStub("migrate-old-model"), (_: ModelStats, state) => {
      const sql = state.storage.sql;
      dropAll(sql);
      sql.exec(OLD_STATS_SCHEMA);
      sql.exec("INSERT INTO loads (version, cold, failed, last_at) VALUES (1, 3, 1, '2026-01-01T00:00:00.000Z')");
      sql.exec("INSERT INTO cache (version, hits, misses, hit_ms, miss_ms) VALUES (1, 4, 5, 1.5, 2.5)");

      const stats = new ModelStats(state, workerEnv);
      expect(versions(sql)).toEqual(Object.fromEntries(MODEL_STATS_SCHEMAS.map((s) => [s.name, 1])));
      const figures = stats.requestStats();
      expect(figures.loads).toEqual([{ version: 1, cold: 3, failed: 1, last_at: "2026-01-01T00:00:00.000Z" }]);
      expect(figures.cache).toEqual([{ version: 1, hits: 4, misses: 5, hit_ms: 1.5, miss_ms: 2.5 }]);
      // The tables missing before were created.
      expect(figures.requests).toEqual([]);
      expect(stats.shadowStats()).toEqual([]);
    });
  });
});

describe("a second start", () => {
  it("applies nothing to either object", async () => {
    await runInDurableObject(tenantStub("migrate-twice"), (_: TenantLimiter, state) => {
      expect(migrate(state.storage, TENANT_SCHEMAS)).toEqual([]);
      new TenantLimiter(state, workerEnv);
      expect(migrate(state.storage, TENANT_SCHEMAS)).toEqual([]);
    });
    await runInDurableObject(statsStub("migrate-twice"), (_: ModelStats, state) => {
      expect(migrate(state.storage, MODEL_STATS_SCHEMAS)).toEqual([]);
    });
  });
});

describe("a later migration", () => {
  const v1: Schema = { name: "probe", migrations: ["CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, a TEXT NOT NULL)"] };
  const v2: Schema = { name: "probe", migrations: [...v1.migrations, "ALTER TABLE probe ADD COLUMN b TEXT NOT NULL DEFAULT 'none'"] };

  it("adds a column to a table that has rows, once", async () => {
    await runInDurableObject(statsStub("migrate-probe-column"), (_: ModelStats, state) => {
      expect(migrate(state.storage, [v1])).toEqual([{ module: "probe", version: 1 }]);
      state.storage.sql.exec("INSERT INTO probe (id, a) VALUES (1, 'kept')");
      expect(migrate(state.storage, [v2])).toEqual([{ module: "probe", version: 2 }]);
      expect(columns(state.storage.sql, "probe")).toEqual(["id", "a", "b"]);
      expect(state.storage.sql.exec("SELECT * FROM probe").toArray()).toEqual([{ id: 1, a: "kept", b: "none" }]);
      expect(migrate(state.storage, [v2])).toEqual([]);
      expect(versions(state.storage.sql).probe).toBe(2);
    });
  });

  it("may be a function, applied in order after the SQL before it", async () => {
    await runInDurableObject(statsStub("migrate-probe-function"), (_: ModelStats, state) => {
      const seen: number[] = [];
      const backfill = (sql: SqlStorage) => {
        seen.push(sql.exec<{ n: number }>("SELECT count(*) AS n FROM probe").one().n);
        sql.exec("UPDATE probe SET b = upper(a)");
      };
      migrate(state.storage, [v1]);
      state.storage.sql.exec("INSERT INTO probe (id, a) VALUES (1, 'x'), (2, 'y')");
      expect(migrate(state.storage, [{ name: "probe", migrations: [...v2.migrations, backfill] }])).toEqual([
        { module: "probe", version: 2 },
        { module: "probe", version: 3 },
      ]);
      expect(seen).toEqual([2]);
      expect(state.storage.sql.exec("SELECT b FROM probe ORDER BY id").toArray()).toEqual([{ b: "X" }, { b: "Y" }]);
    });
  });

  it("that fails leaves the tables and the recorded version as they were", async () => {
    await runInDurableObject(statsStub("migrate-probe-failure"), (_: ModelStats, state) => {
      migrate(state.storage, [v1]);
      const broken: Schema = { name: "probe", migrations: [...v1.migrations, "CREATE TABLE probe_extra (x INTEGER); ALTER TABLE missing ADD COLUMN c TEXT"] };
      expect(() => migrate(state.storage, [broken])).toThrow();
      expect(versions(state.storage.sql).probe).toBe(1);
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'probe_extra'").toArray()).toEqual([]);
    });
  });

  it("recorded by newer code than this is left alone", async () => {
    await runInDurableObject(statsStub("migrate-probe-newer"), (_: ModelStats, state) => {
      migrate(state.storage, [v2]);
      expect(migrate(state.storage, [v1])).toEqual([]);
      expect(versions(state.storage.sql).probe).toBe(2);
    });
  });
});
