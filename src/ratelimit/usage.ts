/**
 * @module ratelimit/usage: a tenant's requests per UTC day in its Durable Object, kept 90 days:
 * accepted ones (checked against the daily quota) and refusals by reason.
 */
import type { Schema } from "../storage/migrations";

/** Requests seen on one UTC day. */
export interface UsageDay {
  date: string;
  accepted: number;
  rejected_rate_limit: number;
  rejected_quota: number;
  rejected_forbidden: number;
}

/** A column of counts in the usage table. */
export type UsageColumn = keyof Omit<UsageDay, "date">;

/** The usage table; version 1 is the schema from before versioning. */
export const USAGE_SCHEMA: Schema = {
  name: "usage",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS usage (
  day TEXT PRIMARY KEY, accepted INTEGER NOT NULL DEFAULT 0, rejected_rate_limit INTEGER NOT NULL DEFAULT 0,
  rejected_quota INTEGER NOT NULL DEFAULT 0, rejected_forbidden INTEGER NOT NULL DEFAULT 0)`,
  ],
};

const USAGE_DAYS_KEPT = 90;

/** The UTC day of a time, as the usage table keys it. */
export const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Requests accepted on `today` so far. */
export function acceptedOn(sql: SqlStorage, today: string): number {
  const row = sql.exec<{ accepted: number }>("SELECT accepted FROM usage WHERE day = ?", today).toArray()[0];
  // The first request of a day prunes days past retention; other requests skip the work.
  if (!row) sql.exec("DELETE FROM usage WHERE day < ?", day(Date.parse(today) - USAGE_DAYS_KEPT * 86_400_000));
  return row?.accepted ?? 0;
}

/** Adds `requests` to one of today's counts. */
export function countUsage(sql: SqlStorage, today: string, column: UsageColumn, requests: number): void {
  sql.exec(`INSERT INTO usage (day, ${column}) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET ${column} = ${column} + ?`, today, requests, requests);
}

/** Takes back accepted requests that were never served (leased tokens given back unspent). */
export function uncountAccepted(sql: SqlStorage, today: string, requests: number): void {
  sql.exec("UPDATE usage SET accepted = MAX(0, accepted - ?) WHERE day = ?", requests, today);
}

/** Requests per UTC day, newest first, for the last `days` days. */
export function usageDays(sql: SqlStorage, days: number): UsageDay[] {
  return sql
    .exec<{ day: string; accepted: number; rejected_rate_limit: number; rejected_quota: number; rejected_forbidden: number }>("SELECT * FROM usage ORDER BY day DESC LIMIT ?", days)
    .toArray()
    .map(({ day: date, ...counts }) => ({ date, ...counts }));
}
