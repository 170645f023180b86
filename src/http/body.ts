/**
 * @module http/body: a request's body as handlers read it: the bytes http/body-intake received
 * (decompressed, within the limits, its memory held), or, on a route without it, the request's own.
 */
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env";
import { invalid } from "../errors";
import { zodMessage } from "../tensor/zod-message";

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
  return parseJson(await bodyText(c), false);
}

/**
 * Reads the request body as JSON checked against `schema`; 400 naming the problem and `what` it
 * is. An `optional` body may be empty, which reads as `{}`.
 */
export async function readJsonAs<T extends z.ZodType>(c: Context<AppEnv>, schema: T, what: string, optional = false): Promise<z.infer<T>> {
  const raw = parseJson(await bodyText(c), optional);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid(zodMessage(parsed.error, what));
  return parsed.data;
}

/** The body's JSON; an empty body is `{}` when `optional`, else a 400. */
function parseJson(text: string, optional: boolean): unknown {
  if (text.trim() === "") {
    if (optional) return {};
    throw invalid("request body is empty; send a JSON object");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`request body is not valid JSON: ${(e as Error).message}`);
  }
}
