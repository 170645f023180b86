/**
 * `npm start`: seeds the local R2 bucket with the demo models, runs `wrangler dev` (local R2/KV/DO
 * state in .wrangler/state survives restarts), and once the Worker answers prints its URL and a curl
 * that works as pasted. PORT sets the port (default 8787).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { projectRoot } from "./model-sources.ts";
import { seedLocalBucket } from "./seed.ts";

const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;

const { written, unchanged } = await seedLocalBucket();
console.log(`[start] local R2 bucket seeded: ${written.length} objects written, ${unchanged} already there`);

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
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

if (await waitUntilReady()) {
  const body = JSON.stringify({ inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
  console.log(`
[start] edge-inference is serving at ${base}
[start] demo models: iris (Iris species classifier), silero-vad (voice activity), dtypes (identity per datatype)

  curl -s ${base}/v2/models/iris
  curl -s ${base}/v2/models/iris/infer -H 'content-type: application/json' -d '${body}'
  curl -s ${base}/v1/models/iris:predict -H 'content-type: application/json' -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
`);
}
