/**
 * `npm start`: seeds the local R2 bucket with the demo models, makes sure .dev.vars holds an
 * ADMIN_TOKEN (generated on first run), runs `wrangler dev` (local R2/KV/DO state in
 * .wrangler/state survives restarts), then creates the demo tenant and key if they are not there
 * yet, writes its URL to .wrangler/dev-url (where eictl looks), and prints the URL, the token, the
 * key and curls that work as pasted. PORT sets the port.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./model-sources.ts";
import { seedLocalBucket } from "./seed.ts";
import { copyDocsAssets } from "./docs-assets.ts";
import { newAdminToken, wranglerBin } from "./wrangler-cli.ts";

const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;

/** The ADMIN_TOKEN in .dev.vars, written there first if it is missing. */
function ensureAdminToken(): { token: string; created: boolean } {
  const path = join(projectRoot, ".dev.vars");
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const found = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(text)?.[1];
  if (found) return { token: found, created: false };
  const token = newAdminToken();
  writeFileSync(path, `${text}${text && !text.endsWith("\n") ? "\n" : ""}ADMIN_TOKEN=${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

const admin = ensureAdminToken();
copyDocsAssets();
const { written, unchanged } = await seedLocalBucket();
console.log(`[start] local R2 bucket seeded: ${written.length} objects written, ${unchanged} already there`);

const child = spawn(process.execPath, [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port)], {
  cwd: projectRoot,
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));

async function waitUntilReady(): Promise<boolean> {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${base}/v2/health/ready`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** The demo tenant's key: the one kept from an earlier run if it still works, else a new one. */
async function ensureDemoKey(): Promise<string> {
  const keyFile = join(projectRoot, ".wrangler", "demo-key");
  const kept = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  if (kept && (await fetch(`${base}/v2`, { headers: { authorization: `Bearer ${kept}` } })).ok) return kept;
  const headers = { authorization: `Bearer ${admin.token}`, "content-type": "application/json" };
  const policy = { requests_per_minute: 600, burst: 60, daily_quota: 100_000, models: "*" };
  const put = await fetch(`${base}/admin/tenants/demo`, { method: "PUT", headers, body: JSON.stringify(policy) });
  if (!put.ok) throw new Error(`creating the demo tenant: ${put.status} ${await put.text()}`);
  const res = await fetch(`${base}/admin/tenants/demo/keys`, { method: "POST", headers, body: JSON.stringify({ name: "npm start demo" }) });
  if (!res.ok) throw new Error(`creating the demo key: ${res.status} ${await res.text()}`);
  const { key } = (await res.json()) as { key: string };
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}

if (await waitUntilReady()) {
  // eictl (and anything else in the checkout) finds this server here, whatever PORT it is on.
  writeFileSync(join(projectRoot, ".wrangler", "dev-url"), `${base}\n`);
  const key = await ensureDemoKey();
  const auth = `-H 'authorization: Bearer ${key}'`;
  const json = "-H 'content-type: application/json'";
  const body = JSON.stringify({ inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
  console.log(`
[start] edge-inference is serving at ${base}
[start] demo models: iris (Iris species classifier), silero-vad (voice activity), dtypes (identity per datatype), cnn (224x224 image net, random weights)
[start] admin token (.dev.vars${admin.created ? ", generated now" : ""}): ${admin.token}
[start] web console: ${base}/console (sign in with the admin token)
[start] API reference: ${base}/docs (press Authorize, paste the key below); OpenAPI document: ${base}/openapi.json
[start] demo tenant 'demo' key (.wrangler/demo-key): ${key}

  curl -s ${base}/v2/models/iris ${auth}
  curl -s ${base}/v2/models/iris/infer ${auth} ${json} -d '${body}'
  curl -s ${base}/v1/models/iris:predict ${auth} ${json} -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
  curl -s ${base}/admin/tenants/demo/usage -H 'authorization: Bearer ${admin.token}'
  npx eictl models          # the operators' command line (finds this URL in .wrangler/dev-url, the token in .dev.vars)
`);
}
