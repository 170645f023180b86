/** @module hex: lower-case hexadecimal of bytes (digests, ids), by table rather than per-byte formatting. */

const TABLE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Lower-case hex of `bytes`. */
export function hex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += TABLE[view[i]!];
  return out;
}
