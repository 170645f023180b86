/** The service with a /__loop route (loop-route.ts), for the experiments that time requests inside the isolate. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { root, startWorker, type Running } from "../workers.ts";

/**
 * The service wrapped in bench/experiments/loop-worker.ts (its /__loop repeats a request in the
 * isolate), from wrangler.toml with only `main` and the assets' path changed: a copy in
 * bench/.loop/, so its bindings never drift. ab.ts passes its own directory and Worker (two
 * services in one isolate).
 */
export function startLoopService(state: string, port: number, token: string, vars: Record<string, string> = {}, inspect = false, at = { dir: ".loop", main: "../experiments/loop-worker.ts" }): Promise<Running> {
  const dir = join(root, "bench", at.dir);
  mkdirSync(dir, { recursive: true });
  // The static assets' directory is relative to the config, so the copy points back at the root's.
  const config = readFileSync(join(root, "wrangler.toml"), "utf8")
    .replace(/^main = .*$/m, `main = "${at.main}"`)
    .replace(/^directory = "(.*)"$/m, (_, assets: string) => `directory = "${relative(dir, join(root, assets))}"`);
  writeFileSync(join(dir, "wrangler.toml"), config);
  return startWorker(join("bench", at.dir, "wrangler.toml"), port, "/v2/health/ready", state, { ADMIN_TOKEN: token, MODEL_REFRESH_SECONDS: "60", ...vars }, inspect);
}

/**
 * One call of a loop Worker's /__loop (loop-route.ts) repeating a request `n` times: µs per
 * request by the isolate's clock, and workerd's CPU time over the call; throws naming `label` if
 * the loop or its requests failed.
 */
export async function timeLoop(svc: Running, label: string, query: Record<string, string>, n: number, body?: Buffer): Promise<{ wall: number; cpu: number }> {
  const before = svc.cpu().workerd;
  const res = await fetch(`${svc.url}/__loop?${new URLSearchParams({ ...query, n: String(n) })}`, { method: "POST", body });
  const out = (await res.json()) as { status: number; us_per_request: number; error?: string };
  if (!res.ok || out.status >= 300) throw new Error(`${label}: ${out.error ?? `status ${out.status}`}`);
  return { wall: out.us_per_request, cpu: ((svc.cpu().workerd - before) * 1e6) / n };
}
