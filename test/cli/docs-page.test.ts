/**
 * The API reference (/docs, Swagger UI from Workers Static Assets) in Debian's Chromium against a
 * real `wrangler dev`: it renders the KServe routes from /openapi.json, asks nothing of any other
 * origin, breaks no rule of its Content-Security-Policy, and runs a prediction with a pasted key.
 * The prediction's outputs are checked against onnxruntime-node.
 */
import { AdminClient } from "@edge-inference/client";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceRun } from "../support/reference-runtime.ts";
import { launchChromium } from "./browser.ts";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const IRIS = join(root, "models/iris/1/model.onnx");

let dev: WranglerDev;
let browser: Browser;
let page: Page;
let key: string;
const requested: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  dev = await devFor("docs-page");
  const admin = new AdminClient({ url: dev.url, token: ADMIN_TOKEN });
  await admin.publishVersion("iris", 1, readFileSync(IRIS));
  await admin.putTenant("docs", { requests_per_minute: 100_000 });
  key = (await admin.createKey("docs")).key;
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("request", (r) => requested.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe("the docs page", () => {
  it("renders every KServe V2 route from the document, offline and within its CSP", async () => {
    const res = await page.goto(`${dev.url}/docs/`);
    expect(res?.status()).toBe(200);
    // public/_headers: the console's strict policy, with data: images allowed for Swagger UI's icons.
    expect(res?.headers()["content-security-policy"]).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;/);
    const infer = page.locator("#operations-KServe_V2-postV2ModelsByModelNameInfer");
    await infer.waitFor({ timeout: 30_000 });
    const paths = await page.locator("#operations-tag-KServe_V2 ~ * .opblock-summary-path, .opblock-tag-section .opblock-summary-path").allTextContents();
    for (const path of ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/{model_name}", "/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer", "/v2/repository/index"]) {
      expect(paths.map((p) => p.replace(/\u200b/g, "").trim()), path).toContain(path);
    }
    expect(requested.filter((u) => !u.startsWith(dev.url) && !u.startsWith("data:"))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("runs a prediction with a pasted key", async () => {
    await page.click("button.authorize");
    const apiKey = page.locator(".auth-container", { hasText: "apiKey" });
    await apiKey.locator("input").fill(key);
    await apiKey.locator("button.authorize").click();
    await page.click("button.btn-done");

    const infer = page.locator("#operations-KServe_V2-postV2ModelsByModelNameInfer");
    await infer.locator(".opblock-summary").first().click();
    // The page opens every route ready to try (tryItOutEnabled).
    await infer.locator('tr[data-param-name="model_name"] input').fill("iris");
    await infer.locator("button.execute").click();
    const status = infer.locator(".live-responses-table .response .response-col_status");
    await status.waitFor({ timeout: 30_000 });
    expect((await status.textContent())?.trim()).toBe("200");
    const body = JSON.parse((await infer.locator(".live-responses-table .response-col_description pre").first().textContent()) ?? "") as { model_name: string; outputs: { name: string; data: unknown[] }[] };
    expect(body.model_name).toBe("iris");
    // The example the document gives is the request the page sent.
    const [expected] = await referenceRun(IRIS, [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }], ["label"]);
    expect(body.outputs.find((o) => o.name === "label")!.data.map(String)).toEqual(expected!.data.map(String));
    expect(problems).toEqual([]);
  });
});
