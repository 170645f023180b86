/** Starting and stopping the Workers the benchmarks drive (bench/local-worker.ts): the full service and the bare Worker. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A running Worker (bench/local-worker.ts). */
export interface Running {
  /** The Worker's own socket in workerd: what the benchmarks drive (local-worker.ts says why). */
  url: string;
  stop(): Promise<void>;
  /** CPU seconds used so far by its processes: workerd (the Worker) and the rest (the node hosting Miniflare). */
  cpu(): { workerd: number; other: number };
  /** workerd's peak resident memory so far (VmHWM, MiB; it never falls): the Worker's isolate and workerd itself. */
  peakMemoryMiB(): number;
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

/** The peak resident memory (VmHWM) of the workerd processes in a tree, MiB. */
function peakMemoryOf(pid: number | undefined): number {
  let kib = 0;
  for (const p of pid === undefined ? [] : tree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      if (/^Name:\s+workerd/m.test(status)) kib += Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kib / 1024;
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

/**
 * Where the processes run. On a machine of two cores or more with util-linux's `taskset`, workerd
 * gets the last core and everything else (this process, the load generators it starts, the node
 * processes hosting Miniflare) the others, so the Worker does not share its core with its callers,
 * as a deployed one does not. Left to the scheduler they share both cores, and batched throughput
 * measured lower and more scattered (docs/performance.md). `BENCH_PIN=0` leaves placement to the
 * scheduler; null then, or where pinning is not possible.
 */
export const placement: { workerd: number; rest: string } | null = (() => {
  const cores = availableParallelism();
  if (process.env.BENCH_PIN === "0" || cores < 2) return null;
  const rest = cores === 2 ? "0" : `0-${cores - 2}`;
  try {
    // This process first: what it starts from now on inherits the cores it may use.
    execFileSync("taskset", ["-a", "-p", "-c", rest, String(process.pid)], { stdio: "ignore" });
  } catch {
    return null;
  }
  return { workerd: cores - 1, rest };
})();

/** Moves a Worker's workerd processes (every thread) to the core kept for them. */
function pinWorkerd(pid: number | undefined): void {
  if (!placement || pid === undefined) return;
  for (const p of tree(pid)) {
    try {
      if (readFileSync(`/proc/${p}/comm`, "utf8").startsWith("workerd")) {
        execFileSync("taskset", ["-a", "-p", "-c", String(placement.workerd), String(p)], { stdio: "ignore" });
      }
    } catch {
      // exited meanwhile
    }
  }
}

/** The Workers started and not yet exited: stopped with this process (one listener for them all). */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    try {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
    } catch {
      // gone already
    }
  }
});

/** A Worker from `config` (relative to the root), ready once `ready` answers below 500; stopped with this process. */
export async function startWorker(config: string, port: number, ready: string, persist = "-", vars: Record<string, string> = {}, inspect = false): Promise<Running> {
  // workerd's inspector (port + 1000) only for the profiler: the loads run without one.
  const inspector = inspect ? String(port + 1000) : "-";
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, "bench", "local-worker.ts"), config, String(port), inspector, persist, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)],
    // Its own process group, so that stopping it stops esbuild and workerd with it.
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, detached: true },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  };
  // local-worker.ts prints {"url"} once the Worker is up.
  const url = await new Promise<string | undefined>((resolve) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        // The rest (the build's and Miniflare's output, the Worker's log lines) is read and dropped.
        if (line.startsWith("{\"url\"")) resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once("exit", () => resolve(undefined));
    setTimeout(() => resolve(undefined), 120_000).unref();
  });
  for (let i = 0; url && i < 240; i++) {
    try {
      const res = await fetch(`${url}${ready}`);
      await res.arrayBuffer();
      if (res.status < 500) {
        pinWorkerd(child.pid);
        return { url, stop, cpu: () => cpuOf(child.pid), peakMemoryMiB: () => peakMemoryOf(child.pid) };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`the Worker of ${config} did not become ready`);
}

/**
 * The service, on a state directory that keeps R2, KV, Durable Objects and the cache; `config`
 * (relative to the root) another copy's wrangler.toml (cold-start.ts and experiments/ab-http.ts: the service at a ref).
 */
export function startService(state: string, port: number, token: string, vars: Record<string, string> = {}, inspect = false, config = "wrangler.toml"): Promise<Running> {
  return startWorker(config, port, "/v2/health/ready", state, { ADMIN_TOKEN: token, MODEL_REFRESH_SECONDS: "60", ...vars }, inspect);
}

/** The bare Worker (bench/bare-worker.ts). */
export function startBare(port: number, inspect = false): Promise<Running> {
  return startWorker("bench/wrangler.bare.toml", port, "/heap", "-", {}, inspect);
}

/** An admin API call to a started service whose token is `token`: its JSON answer; throws naming the status if it failed. */
export async function adminCall(svc: Running, token: string, method: string, path: string, body?: BodyInit, type = "application/json"): Promise<any> {
  const res = await fetch(`${svc.url}/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": type }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Vars given as "NAME=value,NAME=value" (the experiments' LOOP_VARS and AB_VARS). */
export const varsFrom = (spec: string): Record<string, string> =>
  Object.fromEntries(spec.split(",").filter(Boolean).map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));

/** One batch size's runs, from a model's statistics (Triton's batch_stats). */
export interface BatchStat { batch_size: number; compute_infer: { count: number; ns: number } }

/** The service's batch_stats for `model` (its first version), across isolates, as `headers`' key sees them. */
export async function batchStats(svc: Running, model: string, headers: Record<string, string>): Promise<BatchStat[]> {
  const res = await fetch(`${svc.url}/v2/models/${model}/stats`, { headers });
  if (!res.ok) throw new Error(`stats ${model}: ${res.status}`);
  const stats = (await res.json()) as { model_stats: { batch_stats: BatchStat[] }[] };
  return stats.model_stats[0]?.batch_stats ?? [];
}
