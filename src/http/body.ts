/** @module http/body: reading request bodies: JSON, with errors a client can act on, and binary tensor bodies laid out for the tensors. */
import type { Context } from "hono";
import { invalid } from "../errors";

/** Parses the request body as JSON; 400 naming the problem when it is empty or malformed. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") throw invalid("request body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`request body is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Reads a binary tensor body (a JSON header of `headerLength` bytes, then the tensors) so that the
 * tensors' bytes start 8-byte aligned in memory: each can then be viewed where it lies instead of
 * copied (a 602 KB image's copy was ~8 % of its request's CPU). The body is read straight into
 * place with a BYOB reader when its length is declared; otherwise, as a plain ArrayBuffer.
 */
export async function readBinaryBody(c: Context, headerLength: string): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length"));
  const length = Number(headerLength.trim());
  const stream = c.req.raw.body;
  if (!stream || !Number.isSafeInteger(declared) || declared <= 0 || !Number.isSafeInteger(length) || length < 0) {
    return new Uint8Array(await c.req.arrayBuffer());
  }
  const pad = (8 - (length % 8)) % 8;
  let buffer = new ArrayBuffer(pad + declared);
  let filled = 0;
  const reader = stream.getReader({ mode: "byob" });
  try {
    while (filled < declared) {
      // Each read hands the buffer over and gives it back in `value` (the same memory).
      const { value, done } = await reader.read(new Uint8Array(buffer, pad + filled, declared - filled));
      if (value) {
        buffer = value.buffer as ArrayBuffer;
        filled += value.byteLength;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
  // A body shorter than declared is cut here; splitBody and the inputs' sizes say what is missing.
  return new Uint8Array(buffer, pad, filled);
}
