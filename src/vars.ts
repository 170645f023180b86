/** @module vars: reading wrangler.toml's [vars], which arrive as strings. */

/** A non-negative number from a variable; `fallback` when it is unset, blank or not such a number. */
export function numberVar(raw: string | undefined, fallback: number): number {
  const n = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** A comma-separated list from a variable, each item trimmed, blanks dropped; [] when unset. */
export function listVar(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}
