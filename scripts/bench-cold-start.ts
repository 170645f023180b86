/**
 * Cold start with and without the Cache API tier (`npm run bench:cold-start`).
 *
 * Each trial starts a fresh `wrangler dev` (a new process, so a new isolate with nothing loaded)
 * on a private state directory that keeps R2, KV, Durable Objects and the Cache API between
 * trials, then times the first prediction (list R2, read the bytes, create the session, run) and
 * a second, warm one. The admin API says where the bytes came from (cache or R2). With the tier
 * on, the first trial fills the cache and later ones read from it.
 *
 * Local R2 and the local cache are both files on this machine, so the ratio here is not the
 * production one (R2 is remote; the cache is in the data centre): it shows the mechanism works
 * and what it costs. Results are printed and written to bench/results/cold-start.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { projectRoot } from "./model-sources.ts";

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const port = Number(process.env.BENCH_PORT ?? 8797);
const base = `http://127.0.0.1:${port}`;
const token = `eia_bench_${randomBytes(8).toString("hex")}`;
const trials = Number(process.env.BENCH_TRIALS ?? 4);

const MODELS = [
  { name: "silero-vad", file: "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx", body: sileroBody() },
  { name: "iris", file: "models/iris/1/model.onnx", body: { inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] } },
];

function sileroBody() {
  return {
    inputs: [
      { name: "input", datatype: "FP32", shape: [1, 512], data: Array.from({ length: 512 }, (_, i) => Math.fround(0.3 * Math.sin(i / 5))) },
      { name: "state", datatype: "FP32", shape: [2, 1, 128], data: new Array(256).fill(0) },
      { name: "sr", datatype: "INT64", shape: [], data: [16000] },
    ],
  };
}

async function startWorker(state: string, cache: "on" | "off"): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state,
      "--var", `ADMIN_TOKEN:${token}`, "--var", `MODEL_BYTES_CACHE:${cache}`, "--var", "MODEL_REFRESH_SECONDS:10"],
    { cwd: projectRoot, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${base}/v2/health/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill("SIGTERM");
  throw new Error("wrangler dev did not become ready");
}

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

const admin = (method: string, path: string, body?: BodyInit, type = "application/json") =>
  fetch(`${base}/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": type }, body });

async function prepare(state: string): Promise<string> {
  const child = await startWorker(state, "off");
  try {
    for (const m of MODELS) {
      const res = await admin("PUT", `/models/${m.name}/versions/1`, readFileSync(join(projectRoot, m.file)), "application/octet-stream");
      if (!res.ok) throw new Error(`publish ${m.name}: ${res.status} ${await res.text()}`);
    }
    await admin("PUT", "/tenants/bench", JSON.stringify({ requests_per_minute: 100000 }));
    const res = await admin("POST", "/tenants/bench/keys", "{}");
    return ((await res.json()) as { key: string }).key;
  } finally {
    await stopWorker(child);
  }
}

async function timedInfer(key: string, model: (typeof MODELS)[number]): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v2/models/${model.name}/versions/1/infer`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(model.body),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`infer ${model.name}: ${res.status}`);
  return performance.now() - started;
}

interface Trial { model: string; cache: string; trial: number; source: string; read_ms: number; cold_ms: number; warm_ms: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const state = mkdtempSync(join(tmpdir(), "edge-inference-bench-"));
const results: Trial[] = [];
try {
  const key = await prepare(state);
  for (const cache of ["off", "on"] as const) {
    for (let trial = 1; trial <= trials; trial++) {
      const child = await startWorker(state, cache);
      try {
        for (const model of MODELS) {
          const cold_ms = await timedInfer(key, model);
          const warm_ms = await timedInfer(key, model);
          const described = (await (await admin("GET", `/models/${model.name}`)).json()) as { versions: { load?: { source: string; read_ms: number } }[] };
          const load = described.versions[0]?.load;
          results.push({ model: model.name, cache, trial, source: load?.source ?? "?", read_ms: load?.read_ms ?? NaN, cold_ms, warm_ms });
          console.log(`cache ${cache} trial ${trial} ${model.name}: bytes from ${load?.source}, read ${load?.read_ms} ms, first request ${cold_ms.toFixed(1)} ms, second ${warm_ms.toFixed(1)} ms`);
        }
      } finally {
        await stopWorker(child);
      }
    }
  }
} finally {
  rmSync(state, { recursive: true, force: true });
}

// Summary: medians over trials whose bytes came from the source named (cache trials after the first).
const summary = MODELS.map((m) => {
  const pick = (cache: string, source: string) => results.filter((r) => r.model === m.name && r.cache === cache && r.source === source);
  const r2 = pick("off", "r2");
  const hit = pick("on", "cache");
  const row = {
    model: m.name,
    bytes: readFileSync(join(projectRoot, m.file)).byteLength,
    r2: { trials: r2.length, read_ms: median(r2.map((r) => r.read_ms)), cold_ms: median(r2.map((r) => r.cold_ms)), warm_ms: median(r2.map((r) => r.warm_ms)) },
    cache: { trials: hit.length, read_ms: hit.length ? median(hit.map((r) => r.read_ms)) : null, cold_ms: hit.length ? median(hit.map((r) => r.cold_ms)) : null },
  };
  return { ...row, cold_ratio_cache_over_r2: row.cache.cold_ms === null ? null : Number((row.cache.cold_ms / row.r2.cold_ms).toFixed(3)) };
});
console.table(summary.map((s) => ({
  model: s.model, bytes: s.bytes,
  "R2 read ms": s.r2.read_ms, "cold ms (R2)": s.r2.cold_ms.toFixed(1),
  "cache read ms": s.cache.read_ms, "cold ms (cache)": s.cache.cold_ms?.toFixed(1),
  "cold cache/R2": s.cold_ratio_cache_over_r2, "warm ms": s.r2.warm_ms.toFixed(1),
})));
mkdirSync(join(projectRoot, "bench", "results"), { recursive: true });
writeFileSync(join(projectRoot, "bench", "results", "cold-start.json"), `${JSON.stringify({ at: new Date().toISOString(), trials, results, summary }, null, 2)}\n`);
