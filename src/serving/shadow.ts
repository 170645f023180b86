/**
 * @module serving/shadow: shadow traffic. Which requests are mirrored to the config's shadow
 * version, and how the shadow's outputs are compared with the answer the caller got. Pure.
 */
import { toJsonValues } from "../tensor/json-values";
import type { Tensor } from "../tensor/tensor";
import type { ModelSnapshot, VersionEntry } from "./repository";

/** Two values agree when |a - b| <= ABS_TOLERANCE + REL_TOLERANCE * |a|. */
export const ABS_TOLERANCE = 1e-4;
export const REL_TOLERANCE = 1e-3;

/** One mirrored request, as recorded. */
export interface ShadowSample {
  primaryVersion: number;
  shadowVersion: number;
  /** All outputs agree within tolerance (false when the shadow failed). */
  agree: boolean;
  /** Largest absolute difference over numeric outputs; null when there was nothing to compare. */
  maxAbsDiff: number | null;
  primaryMs: number;
  /** Null when the shadow failed before running. */
  shadowMs: number | null;
  /** Why the shadow failed or could not be compared. */
  error?: string;
}

/**
 * The version to mirror a request to, or null. Requests the shadow version itself answered are
 * not mirrored; `random` is in [0, 1).
 */
export function shadowFor(snapshot: ModelSnapshot, served: VersionEntry, random: number): VersionEntry | null {
  const shadow = snapshot.config.shadow;
  if (!shadow || shadow.percent <= 0 || shadow.version === served.version) return null;
  if (random * 100 >= shadow.percent) return null;
  return snapshot.versions.find((v) => v.version === shadow.version) ?? null;
}

/** Elements as numbers, booleans, strings or (64-bit integers) bigints. */
function valuesOf(t: Tensor): readonly unknown[] {
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data as ArrayLike<bigint>);
  return toJsonValues(t);
}

/** Compares the shadow's outputs with the primary's, output by output and element by element. */
export function compareOutputs(primary: readonly Tensor[], shadow: readonly Tensor[]): { agree: boolean; maxAbsDiff: number | null; error?: string } {
  let maxAbsDiff: number | null = null;
  let agree = true;
  let error: string | undefined;
  for (const p of primary) {
    const s = shadow.find((t) => t.name === p.name);
    if (!s) return { agree: false, maxAbsDiff, error: `the shadow has no output '${p.name}'` };
    if (s.datatype !== p.datatype || s.shape.join(",") !== p.shape.join(",")) {
      agree = false;
      error ??= `output '${p.name}' is ${s.datatype}[${s.shape.join(",")}] in the shadow, ${p.datatype}[${p.shape.join(",")}] in the primary`;
      continue;
    }
    const a = valuesOf(p);
    const b = valuesOf(s);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (typeof x === "number" && typeof y === "number") {
        if (Number.isNaN(x) || Number.isNaN(y)) {
          if (Number.isNaN(x) !== Number.isNaN(y)) agree = false;
          continue;
        }
        const diff = Math.abs(x - y);
        maxAbsDiff = Math.max(maxAbsDiff ?? 0, diff);
        if (diff > ABS_TOLERANCE + REL_TOLERANCE * Math.abs(x)) agree = false;
      } else if (typeof x === "bigint" && typeof y === "bigint") {
        const diff = Number(x > y ? x - y : y - x);
        maxAbsDiff = Math.max(maxAbsDiff ?? 0, diff);
        if (diff !== 0) agree = false;
      } else if (x !== y) {
        agree = false;
      }
    }
  }
  return error ? { agree, maxAbsDiff, error } : { agree, maxAbsDiff };
}
