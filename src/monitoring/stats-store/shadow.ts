/**
 * @module monitoring/stats-store/shadow: mirrored traffic per (primary, shadow) pair of versions:
 * how often the shadow ran and agreed, how far apart the outputs were, and both sides' times.
 */
import type { ShadowSample } from "../../serving/shadow";
import type { Schema } from "../../storage/migrations";

/** The shadow table; version 1 is the schema from before versioning. */
export const SHADOW_SCHEMA: Schema = {
  name: "shadow",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS shadow (
  primary_version INTEGER NOT NULL, shadow_version INTEGER NOT NULL,
  mirrored INTEGER NOT NULL DEFAULT 0, compared INTEGER NOT NULL DEFAULT 0, agreed INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, max_abs_diff REAL,
  primary_ms_sum REAL NOT NULL DEFAULT 0, primary_ms_max REAL, shadow_ms_sum REAL NOT NULL DEFAULT 0, shadow_ms_max REAL,
  first_at TEXT NOT NULL, last_at TEXT NOT NULL, last_error TEXT,
  PRIMARY KEY (primary_version, shadow_version))`,
  ],
};

/** Shadow figures for one pair of versions, as the admin API shows them. */
export interface ShadowPairStats {
  primary_version: number;
  shadow_version: number;
  mirrored: number;
  compared: number;
  agreed: number;
  /** agreed / compared, null before anything was compared. */
  agreement: number | null;
  /** Mirrored requests the shadow could not run (load failure, inputs it does not accept). */
  errors: number;
  max_abs_diff: number | null;
  primary_ms: { mean: number | null; max: number | null };
  shadow_ms: { mean: number | null; max: number | null };
  first_at: string;
  last_at: string;
  last_error: string | null;
}

type Row = {
  primary_version: number;
  shadow_version: number;
  mirrored: number;
  compared: number;
  agreed: number;
  errors: number;
  max_abs_diff: number | null;
  primary_ms_sum: number;
  primary_ms_max: number | null;
  shadow_ms_sum: number;
  shadow_ms_max: number | null;
  first_at: string;
  last_at: string;
  last_error: string | null;
};

const round = (x: number | null, digits = 3) => (x === null ? null : Number(x.toFixed(digits)));

/** Adds mirrored requests (an isolate may send several at once). */
export function recordShadow(sql: SqlStorage, samples: readonly ShadowSample[]): void {
  const now = new Date().toISOString();
  for (const s of samples) {
    // Compared: the shadow ran (its outputs may still disagree); an error: it could not run.
    const compared = s.shadowMs !== null ? 1 : 0;
    sql.exec(
      `INSERT INTO shadow (primary_version, shadow_version, first_at, last_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (primary_version, shadow_version) DO NOTHING`,
      s.primaryVersion, s.shadowVersion, now, now);
    sql.exec(
      `UPDATE shadow SET mirrored = mirrored + 1, compared = compared + ?, agreed = agreed + ?, errors = errors + ?,
         max_abs_diff = CASE WHEN ? IS NULL THEN max_abs_diff ELSE max(coalesce(max_abs_diff, ?), ?) END,
         primary_ms_sum = primary_ms_sum + ?, primary_ms_max = max(coalesce(primary_ms_max, ?), ?),
         shadow_ms_sum = shadow_ms_sum + ?, shadow_ms_max = CASE WHEN ? IS NULL THEN shadow_ms_max ELSE max(coalesce(shadow_ms_max, ?), ?) END,
         last_at = ?, last_error = coalesce(?, last_error)
       WHERE primary_version = ? AND shadow_version = ?`,
      compared, compared && s.agree ? 1 : 0, 1 - compared,
      s.maxAbsDiff, s.maxAbsDiff, s.maxAbsDiff,
      s.primaryMs, s.primaryMs, s.primaryMs,
      s.shadowMs ?? 0, s.shadowMs, s.shadowMs, s.shadowMs,
      now, s.error ?? null,
      s.primaryVersion, s.shadowVersion);
  }
}

/** Every pair's figures, by primary then shadow version. */
export function shadowStats(sql: SqlStorage): ShadowPairStats[] {
  const rows = sql.exec<Row>("SELECT * FROM shadow ORDER BY primary_version, shadow_version").toArray();
  return rows.map((r) => ({
    primary_version: r.primary_version,
    shadow_version: r.shadow_version,
    mirrored: r.mirrored,
    compared: r.compared,
    agreed: r.agreed,
    agreement: r.compared > 0 ? round(r.agreed / r.compared, 4) : null,
    errors: r.errors,
    max_abs_diff: r.max_abs_diff,
    primary_ms: { mean: r.mirrored > 0 ? round(r.primary_ms_sum / r.mirrored) : null, max: round(r.primary_ms_max) },
    shadow_ms: { mean: r.compared > 0 ? round(r.shadow_ms_sum / r.compared) : null, max: round(r.shadow_ms_max) },
    first_at: r.first_at,
    last_at: r.last_at,
    last_error: r.last_error,
  }));
}

/** Forgets the shadow figures (an operator starting a fresh comparison). */
export function resetShadow(sql: SqlStorage): number {
  return sql.exec("DELETE FROM shadow").rowsWritten;
}
