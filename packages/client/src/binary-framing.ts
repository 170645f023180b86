/**
 * @module binary-framing: the binary tensor data extension's HTTP framing. A body is a JSON header
 * of `Inference-Header-Content-Length` bytes, then each binary tensor's bytes in order.
 */

export const HEADER_LENGTH = "Inference-Header-Content-Length";

const utf8 = new TextEncoder();

/**
 * A request body: the JSON padded with trailing spaces to a multiple of 8 bytes (still JSON), so
 * that the service can read the first tensor, and each whole-sized one after it, where it lies.
 */
export function frameRequest(json: object, binaries: readonly Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const encoded = utf8.encode(JSON.stringify(json));
  const headerLength = encoded.byteLength + ((8 - (encoded.byteLength % 8)) % 8);
  const body = new Uint8Array(headerLength + binaries.reduce((n, b) => n + b.byteLength, 0));
  body.set(encoded, 0);
  body.fill(0x20, encoded.byteLength, headerLength);
  let at = headerLength;
  for (const b of binaries) {
    body.set(b, at);
    at += b.byteLength;
  }
  return { body, headerLength };
}

/** Where one binary output lies in a response body. */
export interface BinarySlice {
  offset: number;
  size: number;
}

/** The offsets of the outputs that say `binary_data_size`, in the order they follow the header. */
export function binarySlices(outputs: readonly { name: string; parameters?: Record<string, unknown> }[], headerLength: number, total: number): Map<string, BinarySlice> {
  const slices = new Map<string, BinarySlice>();
  let at = headerLength;
  for (const o of outputs) {
    const size = o.parameters?.binary_data_size;
    if (typeof size !== "number") continue;
    if (at + size > total) throw new Error(`the response's output '${o.name}' runs past its end (${at + size} > ${total} bytes)`);
    slices.set(o.name, { offset: at, size });
    at += size;
  }
  return slices;
}
