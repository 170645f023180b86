// @ts-check
/** @module routing-text: a model's routing, labels and shadow in a few words (list and model page). */

/**
 * Where a request naming no version or label goes.
 * @param {{ kind: string, version?: number, traffic?: Record<string, number> }} routing
 */
export function routingText(routing) {
  if (routing.kind === "traffic_split" && routing.traffic) {
    return `split: ${Object.entries(routing.traffic).map(([v, w]) => `v${v} ${w} %`).join(", ")}`;
  }
  if (routing.kind === "default_version") return `v${routing.version} (default version)`;
  return `v${routing.version} (highest version)`;
}

/** @param {Record<string, number>} labels */
export const labelsText = (labels) => Object.entries(labels).map(([l, v]) => `${l} → v${v}`).join(", ") || "none";

/** @param {{ version: number, percent: number } | null | undefined} shadow */
export const shadowText = (shadow) => (shadow ? `v${shadow.version} at ${shadow.percent} %` : "off");
