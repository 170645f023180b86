/**
 * `npm run deploy` (scripts/deploy.ts) without a Cloudflare account: its dry run builds the
 * bundle that `wrangler deploy` would upload, within Cloudflare's size limit; without credentials it says what is missing and deploys nothing. No network.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./wrangler-dev.ts";

/** Cloudflare's limit on a Worker's uncompressed size, the same on every plan since 2026-09-04 (its changelog). */
const SIZE_LIMIT_KIB = 64 * 1024;

const home = mkdtempSync(join(tmpdir(), "edge-inference-deploy-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs scripts/deploy.ts as `npm run deploy` does, with no Cloudflare credentials anywhere. */
function deploy(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), WRANGLER_SEND_METRICS: "false" };
  delete env.CLOUDFLARE_API_TOKEN;
  delete env.CLOUDFLARE_ACCOUNT_ID;
  delete env.CF_API_TOKEN;
  return spawnSync(process.execPath, [join(root, "scripts/deploy.ts"), ...args], { cwd: root, env, encoding: "utf8", timeout: 120_000 });
}

describe("npm run deploy", () => {
  it("builds, in a dry run, a bundle within Cloudflare's size limit", () => {
    const outdir = join(home, "bundle");
    const run = deploy(["--dry-run", "--outdir", outdir]);
    expect(run.status, run.stderr).toBe(0);
    const [, raw, gzip] = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(run.stdout) ?? [];
    expect(Number(gzip), run.stdout).toBeGreaterThan(0);
    expect(Number(raw)).toBeLessThan(SIZE_LIMIT_KIB);
    console.log(`[deploy] bundle: ${raw} KiB raw, ${gzip} KiB gzip (limit ${SIZE_LIMIT_KIB} KiB raw)`);
    const files = readdirSync(outdir);
    expect(files).toContain("index.js");
    expect(files.some((f) => f.endsWith(".wasm"))).toBe(true);
    expect(statSync(join(outdir, "index.js")).size).toBeGreaterThan(0);
    // The docs page's files, copied from node_modules for the assets upload.
    expect(existsSync(join(root, "public/docs/vendor/swagger-ui-bundle.js"))).toBe(true);
    // The KV namespace carries no id: wrangler provisions it.
    expect(run.stdout).toMatch(/env\.API_KEYS\s+KV Namespace/);
  }, 120_000);

  it("without an account, says how to log in and deploys nothing", () => {
    const run = deploy([]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/not logged in to a Cloudflare account/);
    expect(run.stderr).toMatch(/npx wrangler login/);
    expect(run.stderr).toMatch(/CLOUDFLARE_API_TOKEN/);
    expect(run.stdout).not.toMatch(/deploying/);
  }, 120_000);
});
