/**
 * @module http/body: a request's body as handlers read it: the bytes http/body-intake received
 * (decompressed, within the limits, its memory held), or, on a route without it, the request's own.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { invalid } from "../errors";

const utf8 = new TextDecoder();

/** The request body's bytes. */
export async function bodyBytes(c: Context<AppEnv>): Promise<Uint8Array> {
  const received = c.get("received");
  return received ? await received() : new Uint8Array(await c.req.arrayBuffer());
}

/** The request body as text (UTF-8, malformed sequences replaced, as Request.text() does). */
export async function bodyText(c: Context<AppEnv>): Promise<string> {
  return utf8.decode(await bodyBytes(c));
}

/** Parses the request body as JSON; 400 naming the problem when it is empty or malformed. */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await bodyText(c);
  if (text.trim() === "") throw invalid("request body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`request body is not valid JSON: ${(e as Error).message}`);
  }
}
