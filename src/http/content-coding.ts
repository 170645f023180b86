/**
 * @module http/content-coding: request bodies sent compressed. A Worker is handed a request's body
 * as sent, so a body with `Content-Encoding: gzip` or `deflate` (Triton's HTTP client's
 * `request_compression_algorithm`, TF Serving's REST clients, `curl --data-binary @x.json.gz`) is
 * decompressed here, within the limit its route has for the decompressed body. Other codings are
 * a 415 naming those accepted (RFC 9110 §15.5.16, RFC 7694).
 */
import type { Coding } from "../env";
import { invalid, ServingError } from "../errors";

/** The value of a 415's Accept-Encoding: what a request body may be sent as. */
export const ACCEPTED_CODINGS = "gzip, deflate, identity";

/**
 * The coding a request's Content-Encoding names: null for none or identity; gzip (or its alias
 * x-gzip) and deflate (zlib's format, as HTTP's "deflate" is); a 415 for anything else, a list of
 * codings included.
 */
export function requestCoding(header: string | undefined): Coding | null {
  const coding = header?.trim().toLowerCase();
  if (!coding || coding === "identity") return null;
  if (coding === "gzip" || coding === "x-gzip") return "gzip";
  if (coding === "deflate") return "deflate";
  throw new ServingError(
    "unsupported_media_type",
    `Content-Encoding '${coding.slice(0, 40)}' is not supported: send the request body as gzip, deflate or uncompressed (binary tensors, with Inference-Header-Content-Length, are the compact form)`,
    { headers: { "Accept-Encoding": ACCEPTED_CODINGS } },
  );
}

/**
 * Decompresses a request body within `limit` bytes: `overLimit()` is thrown as soon as more would
 * come out (a small body that inflates without end is stopped there, not read to its end). Bytes
 * that are not of the coding are a 400. The result spans its ArrayBuffer exactly, from its start.
 */
export async function decompress(compressed: ArrayBuffer, coding: Coding, limit: number, overLimit: () => Error): Promise<Uint8Array> {
  const reader = new Blob([compressed]).stream().pipeThrough(new DecompressionStream(coding)).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch (e) {
      throw invalid(`request body is not valid ${coding} data (Content-Encoding: ${coding}): ${(e as Error).message}`);
    }
    if (step.done) break;
    total += step.value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw overLimit();
    }
    chunks.push(step.value);
  }
  const only = chunks.length === 1 ? chunks[0]! : null;
  if (only && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength) return only;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
