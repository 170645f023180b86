/**
 * The web console (/console) in a real browser (Debian's Chromium through playwright-core) against
 * a real `wrangler dev` with the demo models: one Worker and one browser for the whole file. Each
 * step builds on the one before, as an operator's session would. Screenshots of the main pages go
 * to test-output/console/ (not committed) on every run.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser.ts";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const IRIS = join(root, "models/iris/1/model.onnx");
const VAD = join(root, "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx");
const CANDIDATE = join(root, "models/candidates/iris-retrained.onnx");
const SHOTS = join(root, "test-output/console");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** HTML that would run if it were ever parsed rather than shown as text. */
const HOSTILE = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";

let dev: WranglerDev;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let tenantKey: string;
/** Every URL the browser asked for: the console makes no third-party request. */
const requested: string[] = [];

async function admin(method: string, path: string, body?: BodyInit | object, type = "application/json") {
  const res = await fetch(`${dev.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": type },
    body: body === undefined ? undefined : body instanceof Uint8Array || typeof body === "string" ? body : JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res.json() as Promise<any>;
}

const irisRow = { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [6.7, 3.0, 5.2, 2.3] }] };
const predict = (key: string) =>
  fetch(`${dev.url}/v2/models/iris/infer`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(irisRow) });

async function signIn(p: Page, token = ADMIN_TOKEN) {
  await p.goto(`${dev.url}/console/`);
  await p.fill("#admin-token", token);
  await p.click("#sign-in button[type=submit]");
}

// page.evaluate callbacks use `(globalThis as any)` for the page's window: this file is type-checked
// for Node, without the DOM's types, and a callback's source is sent to the browser as it is.

/** axe-core's serious and critical findings on the page as it is now. */
async function axeFindings(p: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await p.evaluate(AXE);
  const violations = await p.evaluate(async () => (await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ["violations"] })).violations as { id: string; impact: string; nodes: { target: string[] }[] }[]);
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Moves the page's clock on by `ms`, firing its timers, then gives their requests time to be seen. */
async function elapse(ms: number) {
  await page.clock.runFor(ms);
  await page.waitForTimeout(500);
}

const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** The sum of a chart's first data column (its "numbers" table). */
const chartTotal = (p: Page, id: string) =>
  p.$$eval(`#${id} tbody tr td:nth-child(2)`, (cells) => cells.reduce((n, c) => n + (Number(c.textContent) || 0), 0));

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [dev, browser] = await Promise.all([devFor("console"), launchChromium()]);
  await admin("PUT", "/models/iris/versions/1", readFileSync(IRIS), "application/octet-stream");
  await admin("PUT", "/models/silero-vad/versions/1", readFileSync(VAD), "application/octet-stream");
  // Exact admission: a revoked key is refused on the very next request.
  await admin("PUT", "/tenants/console", { requests_per_minute: 6000, admission: "exact" });
  tenantKey = (await admin("POST", "/tenants/console/keys", { name: "console test" })).key;
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  // The page's timers run on Playwright's clock: the refresh test moves it on rather than waiting.
  await page.clock.install();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  context.on("request", (r) => requested.push(r.url()));
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe("the console", () => {
  it("is served with a strict Content-Security-Policy, and the API's routes still answer", async () => {
    const res = await fetch(`${dev.url}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(await (await fetch(`${dev.url}/`)).json()).toMatchObject({ name: "edge-inference" });
    expect((await fetch(`${dev.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${dev.url}/admin/models`)).status).toBe(401);
  });

  it("refuses a wrong token and keeps nothing of it", async () => {
    await signIn(page, "eia_wrong");
    await expect.poll(() => page.textContent("#sign-in-feedback")).toContain("refused");
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
    expect(await findingsOrShot(page, "sign-in")).toEqual([]);
  });

  it("signs in from the keyboard, keeping the token in sessionStorage only, and lists iris and silero-vad", async () => {
    // The token field has the focus when the page opens; Enter submits.
    await page.goto(`${dev.url}/console/`);
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#model-list");
    const names = await page.$$eval("#model-list tbody th", (cells) => cells.map((c) => c.textContent));
    expect(names).toEqual(["iris", "silero-vad"]);
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length, (globalThis as any).document.cookie])).toEqual([1, 0, ""]);
    expect((await context.cookies()).length).toBe(0);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    expect(await findingsOrShot(page, "models")).toEqual([]);
  });

  it("runs a prediction from the model's signature, and the requests chart moves", async () => {
    await page.click("#model-list >> text=iris");
    await page.waitForSelector("#chart-requests");
    const before = await chartTotal(page, "chart-requests");
    await page.fill("#try-key", tenantKey);
    await page.fill("#try-data-0", "[5.1, 3.5, 1.4, 0.2]");
    await page.click("#try-form button[type=submit]");
    await page.waitForSelector("#try-answered");
    expect(await page.textContent("#try-answered")).toContain("version 1");
    expect(await page.textContent("#try-outputs")).toContain("probabilities");
    expect(await page.textContent("#try-timing")).toContain("inference");
    for (let i = 0; i < 4; i++) expect((await predict(tenantKey)).status).toBe(200);
    // Statistics reach the model's object after each response: refresh until all five are in.
    await expect
      .poll(
        async () => {
          const reads = Number(await page.getAttribute("#traffic-charts", "data-reads"));
          await page.click("#traffic-refresh");
          await page.waitForSelector(`#traffic-charts[data-reads="${reads + 1}"], #traffic-charts[data-reads="${reads + 2}"]`);
          return chartTotal(page, "chart-requests");
        },
        { timeout: 15_000 },
      )
      .toBe(before + 5);
    expect(await findingsOrShot(page, "model")).toEqual([]);
  });

  it("publishes a version from a file, with onnxruntime's reason when it refuses one", async () => {
    await page.setInputFiles("#publish-file", { name: "broken.onnx", mimeType: "application/octet-stream", buffer: readFileSync(IRIS).subarray(0, 300) });
    await page.click("#publish-form button[type=submit]");
    await expect.poll(() => page.textContent("#publish-feedback")).toContain("onnxruntime cannot load");
    await page.setInputFiles("#publish-file", CANDIDATE);
    await page.fill("#publish-version", "2");
    await page.click("#publish-form button[type=submit]");
    await page.waitForSelector("#version-list >> text=v2");
    expect((await admin("GET", "/models/iris")).versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it("sets a 90/10 split with the sliders' numbers", async () => {
    await page.fill("#split-weight-1", "90");
    await page.dispatchEvent("#split-weight-1", "change");
    expect(await page.inputValue("#split-weight-2")).toBe("10");
    expect(await page.textContent("#split-sum")).toBe("Sum: 100 %");
    await page.click("#split-form button[type=submit]");
    await expect.poll(async () => (await admin("GET", "/models/iris")).config.traffic).toEqual({ "1": 90, "2": 10 });
    // The view is read again after the save: it shows what was saved, and the next edit from it
    // carries the new etag (a stale one would be refused with 412).
    await expect.poll(() => page.textContent("#model-summary")).toContain("split: v1 90 %, v2 10 %");
    await expect.poll(() => page.inputValue("#split-weight-2")).toBe("10");
    await page.fill("#split-weight-1", "80");
    await page.dispatchEvent("#split-weight-1", "change");
    await page.click("#split-form button[type=submit]");
    await expect.poll(async () => (await admin("GET", "/models/iris")).config.traffic).toEqual({ "1": 80, "2": 20 });
    expect(await page.textContent("#split-form")).not.toContain("Conflict");
  });

  it("runs one refresh timer however often the page is read again, and none once it is left, even mid-read", async () => {
    const stats: string[] = [];
    const count = (r: { url(): string }) => r.url().includes("/admin/models/iris/stats") && stats.push(r.url());
    page.on("request", count);
    try {
      // The split's save read the page again: still one timer, a read every 5 s.
      await elapse(11_000);
      // The timers have fired; their reads may still be on their way on a loaded machine.
      await expect.poll(() => stats.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(stats.length).toBeLessThanOrEqual(3);
      // Left while its first read of the charts is out: no timer may start after.
      await page.evaluate(() => ((globalThis as any).location.hash = "#/models"));
      await page.waitForSelector("#model-list");
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let continued: Promise<void> = Promise.resolve();
      await page.route("**/admin/models/iris/stats**", (route) => {
        continued = held.then(() => route.continue());
      });
      const asked = page.waitForRequest((r) => r.url().includes("/admin/models/iris/stats"));
      await page.evaluate(() => ((globalThis as any).location.hash = "#/models/iris"));
      await asked;
      await page.evaluate(() => ((globalThis as any).location.hash = "#/isolate"));
      await page.waitForSelector("h1 >> text=Isolate");
      release();
      await continued;
      await page.unroute("**/admin/models/iris/stats**");
      stats.length = 0;
      await elapse(11_000);
      expect(stats).toEqual([]);
    } finally {
      page.off("request", count);
    }
  });

  it("shows a not-found view for a malformed link, not an error", async () => {
    const errors: string[] = [];
    const onError = (e: Error) => errors.push(e.message);
    page.on("pageerror", onError);
    await page.evaluate(() => ((globalThis as any).location.hash = "#/models/%E0%A4%A"));
    await page.waitForSelector("h1 >> text=Not found");
    page.off("pageerror", onError);
    expect(errors).toEqual([]);
    await page.evaluate(() => ((globalThis as any).location.hash = "#/models/iris"));
    await page.waitForSelector("#default-form");
  });

  it("shows a conflict, and overwrites nothing, when two pages edit the config", async () => {
    await page.goto(`${dev.url}/console/#/models/iris`);
    await page.waitForSelector("#default-form");
    // A second tab: sessionStorage is per tab, so it signs in on its own.
    const other = await context.newPage();
    await signIn(other);
    await other.waitForSelector("#model-list");
    await other.goto(`${dev.url}/console/#/models/iris`);
    await other.waitForSelector("#default-form");

    await other.click("#split-remove");
    await expect.poll(async () => (await admin("GET", "/models/iris")).config.traffic).toBeUndefined();
    await page.selectOption("#default-version", "2");
    await page.click("#default-form button[type=submit]");
    await expect.poll(() => page.textContent("#default-form [role=alert]")).toMatch(/Conflict \(HTTP 4(09|12)\)/);
    expect((await admin("GET", "/models/iris")).config).toEqual({});
    await other.close();
  });

  it("deletes a version the config does not route to, after asking", async () => {
    await page.click("#default-form [role=alert] button");
    await page.waitForSelector("#default-form [role=alert]", { state: "detached" });
    await shot(page, "model-two-versions");
    page.once("dialog", (d) => d.accept());
    await page.click('button[aria-label="Delete version 2"]');
    await page.waitForSelector("#version-list >> text=v2", { state: "detached" });
    expect((await admin("GET", "/models/iris")).versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it("creates a key shown once, revokes it, and the next request with it is refused", async () => {
    await page.click("nav >> text=Tenants");
    await page.waitForSelector("#tenant-list");
    await shot(page, "tenants");
    await page.click("#tenant-list >> text=console");
    await page.waitForSelector("#key-form");
    await page.fill("#key-name", HOSTILE);
    await page.click("#key-form button[type=submit]");
    const secret = await (await page.waitForSelector("#new-key")).inputValue();
    expect(secret).toMatch(/^eik_/);
    expect((await predict(secret)).status).toBe(200);
    // The hostile name shows as its characters; nothing of it ran.
    expect(await page.textContent("#key-list")).toContain(HOSTILE);
    expect(await page.$$("#key-list img, #key-list script")).toHaveLength(0);
    expect(await findingsOrShot(page, "tenant")).toEqual([]);

    const id = await page.$eval("#key-list tbody tr:has-text('window.__pwned') td:first-child", (c) => c.textContent);
    page.once("dialog", (d) => d.accept());
    await page.click(`button[aria-label="Revoke key ${id}"]`);
    await page.waitForSelector("#key-list tbody tr:has-text('revoked')");
    expect((await predict(secret)).status).toBe(401);
    expect((await predict(tenantKey)).status).toBe(200);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
  });

  it("renders hostile model and tenant names as text", async () => {
    // Names the API refuses to create, answered here as a tampered repository or proxy could.
    await page.route("**/admin/models", (r) => r.fulfill({ json: { models: [{ name: HOSTILE, versions: [1], latest: 1, labels: { [HOSTILE]: 1 }, routing: { kind: "latest", version: 1 }, shadow: null }] } }));
    await page.route("**/admin/tenants", (r) => r.fulfill({ json: { tenants: [HOSTILE] } }));
    await page.goto(`${dev.url}/console/#/models`);
    await page.waitForSelector("#model-list");
    expect(await page.textContent("#model-list tbody")).toContain(HOSTILE);
    await page.goto(`${dev.url}/console/#/tenants`);
    await page.waitForSelector("#tenant-list");
    expect(await page.textContent("#tenant-list tbody")).toContain(HOSTILE);
    expect(await page.$$("main img, main script")).toHaveLength(0);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    await page.unrouteAll();
  });

  it("shows the isolate, signs out, and asked nothing of another origin", async () => {
    await page.goto(`${dev.url}/console/#/isolate`);
    await page.waitForSelector("#isolate-summary");
    expect(await page.textContent("#isolate-summary")).toContain("started");
    expect(await findingsOrShot(page, "isolate")).toEqual([]);
    await page.click("#sign-out");
    await page.waitForSelector("#admin-token");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(requested.filter((url) => !url.startsWith(`${dev.url}/`))).toEqual([]);
  });

  it("goes back to sign-in when the token is refused mid-session (rotated, say)", async () => {
    await signIn(page);
    await page.waitForSelector("#model-list");
    await page.evaluate(() => sessionStorage.setItem("edge-inference.admin-token", "eia_rotated"));
    await page.click("nav >> text=Tenants");
    await page.waitForSelector("#admin-token");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.textContent("main")).not.toContain("Something failed");
  });
});

/** Takes the page's screenshot, then returns axe-core's serious and critical findings on it. */
async function findingsOrShot(p: Page, name: string): Promise<string[]> {
  await shot(p, name);
  return axeFindings(p);
}
