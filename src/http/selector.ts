/** @module http/selector: the model and version a URL names. */
import { parseLabel, parseVersion } from "../serving/names";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { VersionSelector } from "../serving/router";

/** Header naming a label, for protocols whose URLs have no place for one (KServe V2). */
export const LABEL_HEADER = "X-Model-Label";
/** Optional header identifying the end client within a tenant, so traffic splits stick to it. */
export const CLIENT_ID_HEADER = "X-Client-Id";

/**
 * Builds a selector from URL parts; each part is validated, so a bad one is a 400 naming it.
 * `caller` identifies who is asking (tenant and client id) for sticky traffic splits.
 */
export function selectorFrom(parts: { version?: string; label?: string; caller?: string }): VersionSelector {
  if (parts.version !== undefined) return { kind: "version", version: parseVersion(parts.version) };
  if (parts.label !== undefined) return { kind: "label", label: parseLabel(parts.label) };
  return { kind: "default", caller: parts.caller };
}

/** The caller's identity for sticky splits: its tenant, and the client id it sends, if any. */
export function callerOf(c: Context<AppEnv>): string {
  return `${c.get("caller")?.tenant ?? ""}\u0000${(c.req.header(CLIENT_ID_HEADER) ?? "").slice(0, 256)}`;
}
