/**
 * @module serving/router: which version answers a request. Pure. Order: explicit version, then
 * label, then the config's default version, then the latest version.
 */
import { notFound, ServingError } from "../errors";
import type { ModelSnapshot, VersionEntry } from "./repository";

/** What the caller asked for. */
export type VersionSelector =
  | { kind: "default" }
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
      const version = config.labels?.[selector.label];
      if (version === undefined) throw notFound(`model '${name}' has no label '${selector.label}'`);
      const entry = find(version);
      if (!entry) throw new ServingError("unavailable", `label '${selector.label}' of model '${name}' points at version ${version}, which does not exist`);
      return entry;
    }
    case "default": {
      if (config.default_version === undefined) return snapshot.versions[snapshot.versions.length - 1]!;
      const entry = find(config.default_version);
      if (!entry) throw new ServingError("unavailable", `default_version ${config.default_version} of model '${name}' does not exist`);
      return entry;
    }
  }
}

/** Labels that point at `version`, for status responses. */
export function labelsOf(snapshot: ModelSnapshot, version: number): string[] {
  return Object.entries(snapshot.config.labels ?? {})
    .filter(([, v]) => v === version)
    .map(([label]) => label);
}
