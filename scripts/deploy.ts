/**
 * `npm run deploy`: one command from a fresh clone to a deployed Worker. wrangler itself creates
 * the KV namespace and the R2 buckets on the first deploy (automatic provisioning); this script
 * checks first that wrangler can reach an account, creates the payload-log queue (which wrangler
 * does not provision), deploys, and sets an ADMIN_TOKEN secret if the Worker has none (kept in
 * .wrangler/deploy-admin-token, never printed). Extra arguments go to `wrangler deploy`;
 * `npm run deploy -- --dry-run` only builds the bundle and checks nothing remote.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { copyDocsAssets } from "./docs-assets.ts";
import { projectRoot as root } from "./model-sources.ts";
import { newAdminToken, wranglerBin } from "./wrangler-cli.ts";

const args = process.argv.slice(2);

function wrangler(argv: string[], options: { input?: string; show?: boolean } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [wranglerBin, ...argv], {
    cwd: root,
    encoding: "utf8",
    input: options.input,
    stdio: options.show ? "inherit" : "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

function fail(lines: string[]): never {
  console.error(lines.map((l) => `[deploy] ${l}`).join("\n"));
  process.exit(1);
}

/** The queue the payload log's producer binding names in wrangler.toml. */
function payloadQueue(): string | null {
  const producers = unstable_readConfig({ config: join(root, "wrangler.toml") }).queues.producers ?? [];
  return producers.find((p: { binding: string }) => p.binding === "PAYLOAD_QUEUE")?.queue ?? null;
}

// The docs page's files are copied from node_modules, not committed: the assets must have them.
copyDocsAssets();

if (args.includes("--dry-run")) {
  const run = wrangler(["deploy", ...args], { show: true });
  process.exit(run.status ?? 1);
}

const who = wrangler(["whoami"]);
if (who.status !== 0 || /not authenticated/i.test(who.stdout + who.stderr)) {
  fail([
    "wrangler is not logged in to a Cloudflare account, so there is nowhere to deploy to.",
    "Run `npx wrangler login` (a browser opens), or set CLOUDFLARE_API_TOKEN (an API token with Workers, KV, R2 and Queues edit rights)",
    "and CLOUDFLARE_ACCOUNT_ID if the token can see more than one account. Then run `npm run deploy` again.",
  ]);
}

const queue = payloadQueue();
if (queue && wrangler(["queues", "info", queue]).status !== 0) {
  console.log(`[deploy] creating the payload-log queue '${queue}' (wrangler does not provision queues)`);
  const created = wrangler(["queues", "create", queue]);
  if (created.status !== 0) fail([`could not create the queue '${queue}':`, (created.stderr || created.stdout).trim()]);
}

console.log("[deploy] deploying (wrangler creates the KV namespace and R2 buckets on the first deploy)");
const deployed = wrangler(["deploy", ...args], { show: true });
if (deployed.status !== 0) fail(["wrangler deploy failed: see its message above."]);

const secrets = wrangler(["secret", "list", "--format", "json"]);
const names = secrets.status === 0 ? (JSON.parse(secrets.stdout) as { name: string }[]).map((s) => s.name) : [];
if (!names.includes("ADMIN_TOKEN")) {
  // The admin API answers 503 without it; a generated token is stored locally, never printed.
  const token = newAdminToken();
  const put = wrangler(["secret", "put", "ADMIN_TOKEN"], { input: token });
  if (put.status !== 0) fail(["the Worker has no ADMIN_TOKEN secret and setting one failed: run `npx wrangler secret put ADMIN_TOKEN`.", (put.stderr || put.stdout).trim()]);
  mkdirSync(join(root, ".wrangler"), { recursive: true });
  writeFileSync(join(root, ".wrangler", "deploy-admin-token"), `${token}\n`, { mode: 0o600 });
  console.log("[deploy] the Worker had no ADMIN_TOKEN: one was generated and set; it is in .wrangler/deploy-admin-token (keep it secret)");
}
console.log("[deploy] done. Next: publish a model (docs/deploying.md, step 4).");
