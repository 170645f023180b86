/**
 * CORS in a real browser: headless Chromium (Debian's) on a page served from another origin calls
 * a real `wrangler dev` with a key in the Authorization header. The browser sends its own
 * preflight; a page on an allowed origin gets the prediction and the headers it may read, a page
 * on any other origin gets nothing. Expected outputs come from onnxruntime-node.
 */
import { AdminClient } from "@edge-inference/client";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { referenceRun, type JsonTensor } from "../support/reference-runtime.ts";
import { launchChromium } from "./browser.ts";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const IRIS = join(root, "models/iris/1/model.onnx");
const INPUT: JsonTensor = { name: "features", datatype: "FP32", shape: [1, 4], data: [6.3, 3.3, 6.0, 2.5] };

let dev: WranglerDev;
let port: number;
let key: string;
let browser: Browser;

beforeAll(async () => {
  // global-setup.ts serves the page, reached as two origins: 127.0.0.1 is allowed, localhost is not.
  port = inject("corsPagesPort");
  dev = await devFor("cors-browser");
  const admin = new AdminClient({ url: dev.url, token: ADMIN_TOKEN });
  await admin.publishVersion("iris", 1, readFileSync(IRIS));
  await admin.putTenant("browser", { requests_per_minute: 100_000 });
  key = (await admin.createKey("browser")).key;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Runs a prediction with fetch from a page on `origin`: its outputs and readable headers, or the error. */
async function predictFrom(origin: string) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(
      async ({ url, key, input }) => {
        try {
          const res = await fetch(`${url}/v2/models/iris/infer`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-client-id": "page" },
            body: JSON.stringify({ inputs: [input] }),
          });
          return { status: res.status, version: res.headers.get("x-model-version"), remaining: res.headers.get("ratelimit-remaining"), body: await res.json() };
        } catch (e) {
          return { failed: String(e) };
        }
      },
      { url: dev.url, key, input: INPUT },
    );
  } finally {
    await page.close();
  }
}

describe("a page on another origin", () => {
  it("when allowed, runs a prediction and reads the exposed headers", async () => {
    const got = await predictFrom(`http://127.0.0.1:${port}`);
    expect(got).toMatchObject({ status: 200, version: "1" });
    expect(Number((got as { remaining: string }).remaining)).toBeGreaterThanOrEqual(0);
    const expected = await referenceRun(IRIS, [INPUT]);
    const outputs = (got as { body: { outputs: JsonTensor[] } }).body.outputs;
    for (const e of expected) {
      const o = outputs.find((x) => x.name === e.name)!;
      expect(o.shape).toEqual(e.shape);
      if (e.datatype.startsWith("FP")) o.data.forEach((v, i) => expect(Math.abs((v as number) - (e.data[i] as number))).toBeLessThan(1e-5));
      else expect(o.data.map(String)).toEqual(e.data.map(String));
    }
  });

  it("when not allowed, is refused by the browser", async () => {
    const got = await predictFrom(`http://localhost:${port}`);
    expect(got).toMatchObject({ failed: expect.stringMatching(/TypeError|Failed to fetch/) });
  });
});
