/** @module serving/names: what model names, versions and labels may look like (they become R2 keys). */
import { invalid } from "../errors";

/** A valid model name (1-128 letters, digits, `_`, `.`, `-`, starting with a letter or digit): every check uses this one. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const LABEL = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const VERSION = /^[1-9][0-9]{0,14}$/;
/** A protocol path that names a model: KServe V2's /v2/models/{m}..., TF Serving's /v1/models/{m}[:verb]. */
const MODEL_IN_PATH = /^\/v[12]\/models\/([^/:]+)/;

/** The model a protocol path names (decoded, not yet checked), or null for server-level routes. */
export function modelInPath(path: string): string | null {
  const raw = MODEL_IN_PATH.exec(path)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Checks a model name from a URL: letters, digits, `_`, `.`, `-`, starting with a letter or digit, ≤ 128 chars. */
export function parseModelName(raw: string): string {
  if (!MODEL_NAME.test(raw)) {
    throw invalid(`model name '${raw.slice(0, 140)}' is invalid: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return raw;
}

/** Parses a version from a URL: a positive integer. */
export function parseVersion(raw: string): number {
  if (!VERSION.test(raw)) throw invalid(`version '${raw.slice(0, 40)}' is invalid: versions are positive integers`);
  return Number(raw);
}

/** True for a string that parseModelName accepts. */
export const isModelName = (s: string): boolean => MODEL_NAME.test(s);

/** Checks a label name: a letter, then letters, digits, `_` or `-`, ≤ 64 chars. */
export function parseLabel(raw: string): string {
  if (!LABEL.test(raw)) throw invalid(`label '${raw.slice(0, 80)}' is invalid: use a letter then letters, digits, '_' or '-'`);
  return raw;
}

/** True for a string that parseLabel accepts. */
export const isLabel = (s: string): boolean => LABEL.test(s);
