// @ts-check
/** eictl's human output: aligned tables for lists, and the short forms of what they hold. */

/**
 * Prints rows under a header, each column as wide as its widest cell.
 * @param {string[]} header
 * @param {unknown[][]} rows
 * @param {(line: string) => void} [write]
 */
export function printTable(header, rows, write = console.log) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "" : String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  for (const r of [header, ...cells]) write(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd());
  if (rows.length === 0) write("(none)");
}

/** @param {number} bytes */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** @param {{ kind: string, traffic?: Record<string, number>, version?: number }} routing */
export function routing(routing) {
  if (routing.kind === "traffic_split") return Object.entries(routing.traffic ?? {}).map(([v, w]) => `${v}:${w}%`).join(" ");
  return `${routing.version} (${routing.kind})`;
}

/** @param {Record<string, number> | undefined} labels */
export const labels = (labels) => Object.entries(labels ?? {}).map(([l, v]) => `${l}=${v}`).join(" ");

/** A date-time without its seconds' fraction. @param {string | null} iso */
export const when = (iso) => (iso ? iso.replace(/\.\d+Z$/, "Z") : "");
