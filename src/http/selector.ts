/** @module http/selector: the model and version a URL names. */
import { parseLabel, parseVersion } from "../serving/names";
import type { VersionSelector } from "../serving/router";

/** Builds a selector from URL parts; each part is validated, so a bad one is a 400 naming it. */
export function selectorFrom(parts: { version?: string; label?: string }): VersionSelector {
  if (parts.version !== undefined) return { kind: "version", version: parseVersion(parts.version) };
  if (parts.label !== undefined) return { kind: "label", label: parseLabel(parts.label) };
  return { kind: "default" };
}
