/** The Worker's OpenAPI document, and checks of responses against it (run in Node, through FIXTURES). */
import { expect } from "vitest";
import { callRaw, testEnv } from "./helpers";

let document: Promise<Record<string, unknown>> | undefined;

/** GET /openapi.json, once per test file. */
export function openApiDocument(): Promise<Record<string, unknown>> {
  document ??= callRaw("/openapi.json").then(async (res) => {
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  });
  return document;
}

/** Expects `res` (to `method` `url`) to be documented: its route, its status, and its JSON body as the schema says. Returns the body's text. */
export async function expectDocumented(method: string, url: string, res: Response): Promise<string> {
  const text = await res.text();
  const contentType = res.headers.get("content-type") ?? "";
  const body = contentType.startsWith("application/json") ? JSON.parse(text) : null;
  const path = new URL(url, "https://edge.test").pathname;
  const answer = await testEnv.FIXTURES.fetch("http://fixtures/openapi/conforms", {
    method: "POST",
    body: JSON.stringify({ document: await openApiDocument(), method, path: decodeURIComponent(path), status: res.status, contentType, body }),
  });
  const { problems } = (await answer.json()) as { problems: string[] };
  expect(problems, `${method} ${url} → ${res.status} ${text.slice(0, 200)}`).toEqual([]);
  return text;
}
