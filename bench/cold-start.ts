/**
 * The cold start (`npm run bench -- cold-start`): each model's first prediction in a fresh workerd
 * (one per model and pass, its state kept on disk: R2, KV, the tenants' objects), against its warm
 * requests, for the service as it is at a git ref (BENCH_COLD_BASE, default main) and as it is in
 * the working tree, interleaved pass by pass (ABBA) so the machine's drift falls on both alike.
 *
 * The first request's time is split with its Server-Timing phases (auth: the key's KV read; the
 * rate limit: the tenant's first lease; load; inference: the first run) and the version's load
 * record (bytes read, the wait for onnxruntime's start, session creation). The base's load record
 * may have no runtime wait: its session creation then includes onnxruntime's start.
 *
 * A third service, "current, pre-optimised", is this tree serving each model as onnxruntime-node
 * optimised and wrote it (graph optimisation "extended", still ONNX), with the model's config set to
 * `graph_optimization_level: "disabled"`: the graph is optimised once, before publishing, not in
 * every isolate (bench/ort-format.ts measures the same lever in the bare Worker, and ORT format).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkOut } from "./checkout.ts";
import { optimised } from "./ort-format.ts";
import { binaryBody, CASES, modelBytes, type Case } from "./cases.ts";
import { median } from "./inference-time.ts";
import { adminCall, startService, type Running } from "./workers.ts";
import { root } from "./workers.ts";

const PASSES = Math.max(1, Number(process.env.BENCH_COLD_PASSES ?? 3));
const BASE = process.env.BENCH_COLD_BASE ?? "main";
const MODELS = process.env.BENCH_COLD_MODELS?.split(",");

interface Variant { name: "base" | "current" | "current, pre-optimised"; config: string; state: string; key?: string }

/** One timed request: milliseconds to the whole answer, and its Server-Timing phases. */
async function predict(svc: Running, c: Case, key: string): Promise<{ ms: number; phases: Record<string, number> }> {
  const { body, headerLength } = binaryBody(c);
  const started = performance.now();
  const res = await fetch(`${svc.url}/v2/models/${c.model}/versions/1/infer`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream", "inference-header-content-length": String(headerLength) },
    body,
  });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${c.model}: ${res.status}`);
  const phases = Object.fromEntries(
    (res.headers.get("server-timing") ?? "").split(",").map((p) => {
      const [name, dur] = p.trim().split(";dur=");
      return [name!, Number(dur)];
    }),
  );
  return { ms, phases };
}

const VARS = { MODEL_BYTES_CACHE: "off", REQUEST_LOG: "off" };

/** Publishes the models into the variant's state and makes its tenant's key. */
async function prepare(v: Variant, port: number, token: string, cases: Case[]): Promise<void> {
  const svc = await startService(v.state, port, token, VARS, false, v.config);
  try {
    const preOptimised = v.name === "current, pre-optimised";
    for (const c of cases) {
      const bytes = preOptimised ? await optimised(c, "extended", ".onnx") : modelBytes(c);
      await adminCall(svc, token, "PUT", `/models/${c.model}/versions/1`, bytes, "application/octet-stream");
      if (preOptimised) await adminCall(svc, token, "PUT", `/models/${c.model}/config`, JSON.stringify({ onnxruntime: { graph_optimization_level: "disabled" } }));
    }
    await adminCall(svc, token, "PUT", "/tenants/cold", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission: "leased" }));
    v.key = (await adminCall(svc, token, "POST", "/tenants/cold/keys", "{}")).key as string;
  } finally {
    await svc.stop();
  }
}

type Sample = Record<string, number>;

/** A fresh workerd, the model's first prediction, then five warm ones. */
async function sample(v: Variant, c: Case, port: number, token: string): Promise<Sample> {
  const svc = await startService(v.state, port, token, VARS, false, v.config);
  try {
    const first = await predict(svc, c, v.key!);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await predict(svc, c, v.key!)).ms);
    const load = (await adminCall(svc, token, "GET", `/models/${c.model}`)).versions[0].load as Record<string, number>;
    const p = first.phases;
    return {
      first: first.ms, warm: median(warm), auth: p.auth ?? NaN, ratelimit: p.ratelimit ?? 0, load: p.load ?? NaN, run: p.inference ?? NaN,
      read: load.read_ms ?? NaN, runtimeWait: load.runtime_wait_ms ?? NaN, create: load.create_ms ?? NaN,
    };
  } finally {
    await svc.stop();
  }
}

const r1 = (x: number) => (Number.isNaN(x) ? "—" : Number(x.toFixed(1)));

/** Per model and variant: medians over the passes of the first prediction, the warm one, and the first's parts. */
export async function coldStartRows(port: number, token: string): Promise<{ commit: string; rows: Record<string, unknown>[] }> {
  const cases = MODELS ? CASES.filter((c) => MODELS.includes(c.model)) : CASES;
  const baseDir = join(root, "bench", ".ab", "cold-base");
  const commit = checkOut(BASE, baseDir, ["src", "package.json", "wrangler.toml", "public"]);
  const variants: Variant[] = [
    { name: "base", config: join("bench", ".ab", "cold-base", "wrangler.toml"), state: mkdtempSync(join(tmpdir(), "edge-inference-cold-")) },
    { name: "current", config: "wrangler.toml", state: mkdtempSync(join(tmpdir(), "edge-inference-cold-")) },
    { name: "current, pre-optimised", config: "wrangler.toml", state: mkdtempSync(join(tmpdir(), "edge-inference-cold-")) },
  ];
  try {
    for (const v of variants) await prepare(v, port, token, cases);
    const samples = new Map<string, Sample[]>();
    for (let pass = 0; pass < PASSES; pass++) {
      for (const v of pass % 2 === 0 ? variants : [...variants].reverse()) {
        for (const c of cases) {
          const s = await sample(v, c, port, token);
          const key = `${c.model}\u0000${v.name}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
          console.log(`cold-start: pass ${pass + 1}/${PASSES} ${v.name} ${c.model}: first ${s.first!.toFixed(1)} ms, warm ${s.warm!.toFixed(1)} ms`);
        }
      }
    }
    const rows: Record<string, unknown>[] = [];
    for (const c of cases) {
      for (const v of variants) {
        const list = samples.get(`${c.model}\u0000${v.name}`)!;
        const m = (k: string) => median(list.map((s) => s[k]!));
        const parts = m("auth") + m("ratelimit") + m("load") + m("run");
        rows.push({
          model: c.model, service: v.name, "first ms": r1(m("first")), "warm ms": r1(m("warm")), "first ÷ warm": Number((m("first") / m("warm")).toFixed(1)),
          "key lookup": r1(m("auth")), "rate limit": r1(m("ratelimit")), "bytes read": r1(m("read")), "runtime start wait": r1(m("runtimeWait")),
          "session creation": r1(m("create")), "first run": r1(m("run")), "the rest": r1(m("first") - parts),
        });
      }
    }
    return { commit, rows };
  } finally {
    for (const v of variants) rmSync(v.state, { recursive: true, force: true });
  }
}
