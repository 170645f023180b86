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
const ENCODING_ONLY: ReadonlySet<string> = new Set(["binary_data"]);

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
 * The canonical request in parts: a length-prefixed JSON head (inputs' names, datatypes, shapes and
 * byte counts; outputs' names and parameters, each sorted by name), then the inputs' bytes in that
 * order (views of the tensors, not copies).
 */
function canonicalParts(inputs: readonly Tensor[], outputs: readonly RequestedOutput[]): Uint8Array[] {
  const sorted = [...inputs].sort(byName);
  const bytes = sorted.map(toBinary);
  const json = new TextEncoder().encode(
    JSON.stringify({
      inputs: sorted.map((t, i) => [t.name, t.datatype, t.shape, bytes[i]!.byteLength]),
      outputs: [...outputs].sort(byName).map((o) => {
        const params = Object.entries(o.parameters ?? {}).filter(([k]) => !ENCODING_ONLY.has(k));
        return [o.name, canonical(Object.fromEntries(params))];
      }),
    }),
  );
  const head = new Uint8Array(4 + json.byteLength);
  new DataView(head.buffer).setUint32(0, json.byteLength, true);
  head.set(json, 4);
  return [head, ...bytes];
}

/** The canonical request as one array (what requestHash digests). */
export function canonicalRequest(inputs: readonly Tensor[], outputs: readonly RequestedOutput[]): Uint8Array {
  return join(canonicalParts(inputs, outputs));
}

/** workerd's incremental digest (absent in Node). */
type DigestStreamClass = new (algorithm: string) => WritableStream<Uint8Array> & { readonly digest: Promise<ArrayBuffer> };

/** SHA-256 of the parts one after another: streamed where the runtime can, so large inputs are not copied. */
async function sha256(parts: readonly Uint8Array[]): Promise<ArrayBuffer> {
  const Stream = (crypto as unknown as { DigestStream?: DigestStreamClass }).DigestStream;
  if (!Stream) return crypto.subtle.digest("SHA-256", join(parts));
  const stream = new Stream("SHA-256");
  const writer = stream.getWriter();
  for (const p of parts) if (p.byteLength > 0) await writer.write(p);
  await writer.close();
  return stream.digest;
}

function join(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** SHA-256 of the canonical request, lower-case hex. */
export async function requestHash(inputs: readonly Tensor[], outputs: readonly RequestedOutput[]): Promise<string> {
  return hex(await sha256(canonicalParts(inputs, outputs)));
}
