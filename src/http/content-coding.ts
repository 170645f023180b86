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
 * that are not of the coding are a 400. The body decompressed is read into one buffer that grows
 * by doubling with workerd's `readAtLeast`, which is as fast as `Response.arrayBuffer()` and about
 * twice as fast as reading the stream's own 4 KiB chunks (docs/performance.md), and returned as an ArrayBuffer of its length. `progress` is awaited with the bytes out so far
 * after each read (to hold memory for them before reading on). Whatever ends it early (the limit,
 * bad bytes, `progress` throwing) cancels the decompression and the compressed bytes' stream, so
 * that nothing reads on.
 */
export async function decompress(
  compressed: ArrayBuffer | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  coding: Coding,
  limit: number,
  overLimit: () => Error,
  progress?: (decompressed: number) => Promise<void>,
): Promise<ArrayBuffer> {
  const source = compressed instanceof ReadableStream ? compressed : new Blob([compressed]).stream();
  const reader = source.pipeThrough(new DecompressionStream(coding)).getReader({ mode: "byob" });
  // Room for one byte past the limit tells a body over it.
  const most = limit + 1;
  const sent = compressed instanceof ReadableStream ? 0 : compressed.byteLength;
  let buffer = new ArrayBuffer(Math.min(most, Math.max(64 * 1024, sent * 4)));
  let filled = 0;
  try {
    for (;;) {
      if (filled === buffer.byteLength) {
        if (filled === most) throw overLimit();
        buffer = buffer.transfer(Math.min(most, buffer.byteLength * 2));
      }
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.readAtLeast(buffer.byteLength - filled, new Uint8Array(buffer, filled));
      } catch (e) {
        throw invalid(`request body is not valid ${coding} data (Content-Encoding: ${coding}): ${(e as Error).message}`);
      }
      // The read hands the buffer back (the one passed in is detached), with what it added.
      if (!step.value) throw new Error("a BYOB read ended without handing its buffer back");
      buffer = step.value.buffer as ArrayBuffer;
      filled += step.value.byteLength;
      if (step.done) return buffer.transfer(filled);
      await progress?.(filled);
    }
  } catch (e) {
    // Cancelling the decompression's output cancels the pipe into it and the stream it reads.
    await reader.cancel(e).catch(() => undefined);
    throw e;
  }
}
