/**
 * A real `wrangler dev` for the tests that run in Node (vitest project "cli"): local R2, KV and
 * Durable Objects in a temporary state directory, on a free port, with a known admin token.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ADMIN_TOKEN = "eia_cli_test_token";
const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface WranglerDev {
  url: string;
  /** The state directory (R2, KV, Durable Objects), removed by stop(). */
  state: string;
  stop(): Promise<void>;
}

/** Resolves once `url` answers its readiness probe, false if it never did within `tries` quarter seconds. */
export async function answers(url: string, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(`${url}/v2/health/ready`)).ok) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Starts `wrangler dev` on `state` and waits until the Worker answers its readiness probe; `vars` override wrangler.toml's. */
export async function startWranglerDev(state: string, vars: Record<string, string> = {}): Promise<WranglerDev> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const worker: ChildProcess = spawn(
    process.execPath,
    [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--var", `ADMIN_TOKEN:${ADMIN_TOKEN}`, "--var", "MODEL_REFRESH_SECONDS:0", ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
    { cwd: root, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  const stop = async () => {
    if (worker.exitCode === null) {
      const exited = new Promise((r) => worker.once("exit", r));
      worker.kill("SIGTERM");
      await exited;
    }
    rmSync(state, { recursive: true, force: true });
  };
  // Up to two minutes: on a loaded machine a boot can take a minute.
  if (await answers(url, 480)) return { url, state, stop };
  await stop();
  throw new Error("wrangler dev did not start");
}
