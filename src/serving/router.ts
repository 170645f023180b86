/**
 * @module serving/router: which version answers a request. Pure. Order: explicit version, then
 * label, then the config's traffic split (sticky per caller), then its default version, then the
 * latest version.
 */
import { notFound, ServingError } from "../errors";
import { own } from "../own";
import type { ModelSnapshot, VersionEntry } from "./repository";

/** What the caller asked for. */
export type VersionSelector =
  /** No version or label asked for; `caller` (tenant and client id) keeps a split sticky. */
  | { kind: "default"; caller?: string }
  | { kind: "version"; version: number }
  | { kind: "label"; label: string };

/** The version that serves `selector`, or a not-found / unavailable error. */
export function resolveVersion(snapshot: ModelSnapshot, selector: VersionSelector): VersionEntry {
  const find = (v: number) => snapshot.versions.find((e) => e.version === v);
  const { name, config } = snapshot;
  if (snapshot.configError) {
    throw new ServingError("unavailable", `model '${name}' is unavailable: ${snapshot.configError}`);
  }
  switch (selector.kind) {
    case "version": {
      const entry = find(selector.version);
      if (!entry) throw notFound(`model '${name}' has no version ${selector.version}`);
      return entry;
    }
    case "label": {
      const version = own(config.labels, selector.label);
      if (version === undefined) throw notFound(`model '${name}' has no label '${selector.label}'`);
      const entry = find(version);
      if (!entry) throw new ServingError("unavailable", `label '${selector.label}' of model '${name}' points at version ${version}, which does not exist`);
      return entry;
    }
    case "default": {
      if (config.traffic) {
        const version = splitVersion(config.traffic, `${name}\u0000${selector.caller ?? ""}`);
        const entry = find(version);
        if (!entry) throw new ServingError("unavailable", `the traffic split of model '${name}' sends traffic to version ${version}, which does not exist`);
        return entry;
      }
      if (config.default_version === undefined) return snapshot.versions[snapshot.versions.length - 1]!;
      const entry = find(config.default_version);
      if (!entry) throw new ServingError("unavailable", `default_version ${config.default_version} of model '${name}' does not exist`);
      return entry;
    }
  }
}

/**
 * The versions a request naming no version or label can be routed to: the split's versions with
 * a weight, else the default version, else the latest. Versions the config names that do not
 * exist are left out (resolveVersion reports them).
 */
export function routedVersions(snapshot: ModelSnapshot): VersionEntry[] {
  const { config, versions } = snapshot;
  const wanted = config.traffic
    ? Object.entries(config.traffic).filter(([, w]) => w > 0).map(([v]) => Number(v))
    : config.default_version !== undefined
      ? [config.default_version]
      : [versions[versions.length - 1]!.version];
  return versions.filter((v) => wanted.includes(v.version));
}

/** Labels that point at `version`, for status responses. */
export function labelsOf(snapshot: ModelSnapshot, version: number): string[] {
  return Object.entries(snapshot.config.labels ?? {})
    .filter(([, v]) => v === version)
    .map(([label]) => label);
}

/** FNV-1a, 32 bits: a fast, stable hash of a caller, spread evenly enough for traffic shares. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The version of a split that `callerKey` lands on: the caller's hash picks a point in [0, 100)
 * and the weights, in ascending version order, share that range. The same caller gets the same
 * version for as long as the split is unchanged.
 */
export function splitVersion(traffic: Record<string, number>, callerKey: string): number {
  const point = (fnv1a(callerKey) % 10_000) / 100;
  const shares = Object.entries(traffic)
    .map(([v, w]) => [Number(v), w] as const)
    .filter(([, w]) => w > 0)
    .sort((a, b) => a[0] - b[0]);
  let upTo = 0;
  for (const [version, weight] of shares) {
    upTo += weight;
    if (point < upTo) return version;
  }
  return shares[shares.length - 1]![0];
}
