/** @module http/body: reading a JSON request body, with errors a client can act on. */
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
