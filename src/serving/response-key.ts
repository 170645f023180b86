/**
 * @module serving/response-key: the hash a cached answer is found by. It covers what decides the
 * answer (each input's name, datatype, shape and bytes; each requested output's name and
 * parameters) in a canonical order, and nothing of how the request was spelled or encoded, so a
 * JSON request and a binary one for the same tensors share an entry.
 */
import { hex } from "../hex";
import { toBinary } from "../tensor/binary";
import type { Tensor } from "../tensor/tensor";

/** Output parameters that choose only the answer's encoding, never its values. */
const ENCODING_ONLY = new Set(["binary_data"]);

/** A requested output and its parameters, as the request gave them. */
export interface RequestedOutput {
  name: string;
  parameters?: Record<string, unknown>;
}

/** `value` with every object's keys sorted, so equal parameters serialise equally. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The canonical request: a length-prefixed JSON head (inputs' names, datatypes, shapes and byte
 * counts; outputs' names and parameters, each sorted by name), then the inputs' bytes in that order.
 */
export function canonicalRequest(inputs: readonly Tensor[], outputs: readonly RequestedOutput[]): Uint8Array {
  const sorted = [...inputs].sort(byName);
  const bytes = sorted.map(toBinary);
  const head = new TextEncoder().encode(
    JSON.stringify({
      inputs: sorted.map((t, i) => [t.name, t.datatype, t.shape, bytes[i]!.byteLength]),
      outputs: [...outputs].sort(byName).map((o) => {
        const params = Object.entries(o.parameters ?? {}).filter(([k]) => !ENCODING_ONLY.has(k));
        return [o.name, canonical(Object.fromEntries(params))];
      }),
    }),
  );
  const out = new Uint8Array(4 + head.byteLength + bytes.reduce((n, b) => n + b.byteLength, 0));
  new DataView(out.buffer).setUint32(0, head.byteLength, true);
  out.set(head, 4);
  let at = 4 + head.byteLength;
  for (const b of bytes) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/** SHA-256 of the canonical request, lower-case hex. */
export async function requestHash(inputs: readonly Tensor[], outputs: readonly RequestedOutput[]): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", canonicalRequest(inputs, outputs)));
}
