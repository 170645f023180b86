/** @module compression: gzip or deflate of a request body (CompressionStream, in every runtime this targets). */

export type Coding = "gzip" | "deflate";

export interface RequestCompression {
  algorithm?: Coding;
  /** Bodies smaller than this go uncompressed (default 64 KiB: below it, the bytes saved are not worth the CPU). */
  minBytes?: number;
}

/** The body compressed whole, so that its Content-Length is known and a retry can send it again. */
export async function compress(body: Uint8Array, coding: Coding): Promise<Uint8Array> {
  const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream(coding));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
