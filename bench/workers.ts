/** Starting and stopping `wrangler dev` for the benchmarks: the full service and the bare Worker. */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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
  /** CPU seconds used so far by its processes: workerd (the Workers) and the rest (wrangler, node). */
  cpu(): { workerd: number; other: number };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The process and all its descendants, from /proc. */
function tree(pid: number): number[] {
  const children = (p: number): number[] => {
    try {
      return readdirSync(`/proc/${p}/task`).flatMap((t) =>
        readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]!));
  return all;
}

/** CPU seconds (user + system) of a process tree, by workerd and the rest. */
function cpuOf(pid: number | undefined): { workerd: number; other: number } {
  const sum = { workerd: 0, other: 0 };
  if (pid === undefined) return sum;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      if (name.startsWith("workerd")) sum.workerd += seconds;
      else sum.other += seconds;
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}

async function start(args: string[], port: number, ready: string): Promise<Running> {
  const child: ChildProcess = spawn(
    process.execPath,
    [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1000), ...args],
    // Its own process group, so that stopping it stops esbuild and workerd with it.
    { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, detached: true },
  );
  process.once("exit", () => {
    try {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
    } catch {
      // gone already
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  };
  for (let i = 0; i < 480; i++) {
    try {
      const res = await fetch(`${url}${ready}`);
      await res.arrayBuffer();
      if (res.status < 500) return { url, stop, cpu: () => cpuOf(child.pid) };
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
