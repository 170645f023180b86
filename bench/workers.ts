/** Starting and stopping `wrangler dev` for the benchmarks: the full service and the bare Worker. */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

/** A running `wrangler dev`. */
export interface Running {
  url: string;
  stop(): Promise<void>;
}

async function start(args: string[], port: number, ready: string): Promise<Running> {
  const child: ChildProcess = spawn(
    process.execPath,
    [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1000), ...args],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; i < 480; i++) {
    try {
      const res = await fetch(`${url}${ready}`);
      await res.arrayBuffer();
      if (res.status < 500) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev ${args.join(" ")} did not become ready`);
}

/** The service, on a state directory that keeps R2, KV, Durable Objects and the cache. */
export function startService(state: string, port: number, token: string, vars: Record<string, string> = {}): Promise<Running> {
  const varArgs = Object.entries({ ADMIN_TOKEN: token, MODEL_REFRESH_SECONDS: "60", ...vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  return start(["--persist-to", state, ...varArgs], port, "/v2/health/ready");
}

/** The bare Worker (bench/bare-worker.ts). */
export function startBare(port: number): Promise<Running> {
  return start(["-c", "bench/wrangler.bare.toml"], port, "/heap");
}
