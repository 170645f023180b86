/**
 * `npm run bench:profile [model] [exact|leased|bare] [on|off|errors]`: where the service's CPU goes.
 * Starts the service (bench/local-worker.ts), drives binary inference requests at it with
 * autocannon while workerd's V8 CPU profiler runs (through the inspector), and prints the functions
 * with the most self time, grouped by source file and, within the bundle, by the module each comes
 * from. Default: iris, leased admission, 4 connections, the request log on. `bare` profiles the
 * bare Worker (bench/bare-worker.ts) running the same session on the same inputs instead: the
 * baseline of the overhead section, to set beside the service's profile.
 *
 * Environment: PROFILE_CONNECTIONS (the load's concurrent clients), PROFILE_BATCHING
 * ("max_batch_size,max_queue_delay_ms": profile with the model's dynamic batching on, along the
 * axes its bench case names), PROFILE_LOOP=1 (the service's requests repeated one at a time inside
 * the isolate by loop-worker.ts, without HTTP: the service's own functions stand out).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import WebSocket from "ws";
import { binaryBody, CASES, modelBytes, rawInputs, shapesHeader, bareLoad, type Case } from "../cases.ts";
import { adminCall, batchStats, root, startBare, startService, type Running } from "../workers.ts";
import { startLoopService, timeLoop } from "./loop-service.ts";

const [modelName = "iris", admission = "leased", requestLog = "on"] = process.argv.slice(2);
if (!["exact", "leased", "bare"].includes(admission)) throw new Error(`admission: exact, leased or bare, not ${admission}`);
const found = CASES.find((x) => x.model === modelName);
if (!found) throw new Error(`no case ${modelName}; cases: ${CASES.map((x) => x.model).join(", ")}`);
const c: Case = found;
const PORT = 8821;
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 4);
const BATCHING = process.env.PROFILE_BATCHING?.split(",").map(Number);
/** PROFILE_LOOP=1: the requests are repeated inside the isolate (loop-worker.ts), one at a time, without HTTP. */
const LOOP = process.env.PROFILE_LOOP === "1";
const TOKEN = "eia_profile";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId: string }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

async function inspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string; title?: string }[];
  // The inspector proxy accepts only the origins it knows (DevTools' and localhost).
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { origin: "http://127.0.0.1" });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let next = 1;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** The bare Worker with the case's session loaded, and the load that drives its /run. */
async function bareTarget(): Promise<{ svc: Running; opts: autocannon.Options; key?: string }> {
  const svc = await startBare(PORT, true);
  await bareLoad(svc, c);
  return { svc, opts: { url: `${svc.url}/run/${c.model}`, method: "POST", body: rawInputs(c), connections: CONNECTIONS, headers: { "x-shapes": shapesHeader(c) } } };
}

/** The service with the case's model published and a tenant's key, and the load that drives its inference route. */
async function serviceTarget(state: string): Promise<{ svc: Running; opts: autocannon.Options; key?: string }> {
  const svc = await (LOOP ? startLoopService : startService)(state, PORT, TOKEN, { REQUEST_LOG: requestLog }, true);
  const admin = (method: string, path: string, body?: BodyInit, type?: string) => adminCall(svc, TOKEN, method, path, body, type);
  await admin("PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
  if (BATCHING) {
    const [max_batch_size, max_queue_delay_ms] = BATCHING;
    const dynamic_batching = { max_batch_size, max_queue_delay_ms, ...c.batching };
    await admin("PUT", `/models/${c.model}/config`, JSON.stringify({ dynamic_batching }));
  }
  await admin("PUT", "/tenants/p", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission: admission === "bare" ? "leased" : admission }));
  const key = ((await admin("POST", "/tenants/p/keys", "{}")) as { key: string }).key;
  const bin = binaryBody(c);
  const opts: autocannon.Options = {
    url: `${svc.url}/v2/models/${c.model}/versions/1/infer`, method: "POST", body: bin.body, connections: CONNECTIONS,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) },
  };
  return { svc, opts, key };
}

/** Repeats the load's request in the isolate (loop-route.ts's /__loop) for `seconds`: autocannon's figures that are read. */
async function inLoop(svc: Running, opts: autocannon.Options, seconds: number): Promise<{ requests: { total: number; average: number } }> {
  const url = new URL(String(opts.url));
  // The bare Worker's handling, in the same isolate: the loop's baseline (loop-worker.ts).
  const query: Record<string, string> = BARE
    ? { bare: c.model, headers: JSON.stringify({ "x-shapes": shapesHeader(c) }) }
    : { path: url.pathname, headers: JSON.stringify(opts.headers ?? {}) };
  const started = performance.now();
  let total = 0;
  while (performance.now() - started < seconds * 1000) {
    await timeLoop(svc, "loop", query, 200, BARE ? rawInputs(c) : (opts.body as Buffer));
    total += 200;
  }
  return { requests: { total, average: Math.round(total / ((performance.now() - started) / 1000)) } };
}

const BARE = admission === "bare";
/**
 * The module each bundled function comes from: esbuild marks where each source file begins with a
 * `// path` comment line, and V8's call frames give the line.
 */
function moduleIndex(sources: Map<string, string[]>): (f: Node["callFrame"]) => string | undefined {
  const starts = new Map<string, { line: number; path: string }[]>();
  for (const [id, lines] of sources) {
    const marks: { line: number; path: string }[] = [];
    lines.forEach((text, line) => {
      const m = /^\/\/ (?:\.\.\/)*([\w@./-]+\.(?:[cm]?js|ts))$/.exec(text);
      if (m) marks.push({ line, path: m[1]! });
    });
    if (marks.length) starts.set(id, marks);
  }
  return (f) => {
    const marks = starts.get(f.scriptId);
    let found: string | undefined;
    for (const m of marks ?? []) {
      if (m.line > f.lineNumber) break;
      found = m.path;
    }
    return found;
  };
}

const state = mkdtempSync(join(tmpdir(), "edge-inference-profile-"));
const target = BARE && !LOOP ? await bareTarget() : await serviceTarget(state);
const { svc, opts } = target;
try {
  const drive = LOOP ? (seconds: number) => inLoop(svc, opts, seconds) : (duration: number) => autocannon({ ...opts, duration });
  await drive(2);
  const ins = await inspector(PORT + 1000);
  await ins.send("Profiler.enable");
  await ins.send("Profiler.setSamplingInterval", { interval: 100 });
  await ins.send("Profiler.start");
  const load = await drive(5);
  const { profile } = (await ins.send("Profiler.stop")) as { profile: Profile };
  // The bundle's lines, to show what each hot function is and which module it comes from (the
  // bundle is gone once the Worker stops).
  await ins.send("Debugger.enable");
  const sources = new Map<string, string[]>();
  for (const id of new Set(profile.nodes.map((n) => n.callFrame.scriptId).filter((x) => x && x !== "0"))) {
    const source = (await ins.send("Debugger.getScriptSource", { scriptId: id })) as { scriptSource?: string } | undefined;
    if (source?.scriptSource && source.scriptSource.length < 50_000_000) sources.set(id, source.scriptSource.split("\n"));
  }
  ins.close();
  const lineOf = (f: Node["callFrame"]) => (sources.get(f.scriptId)?.[f.lineNumber] ?? "").slice(Math.max(0, f.columnNumber - 10), f.columnNumber + 70).trim();
  const moduleOf = moduleIndex(sources);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const f = node.callFrame;
    if (f.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const file = f.url.replace(/^.*\/(src|node_modules|bench)\//, "$1/") || "(native)";
    const module = moduleOf(f) ?? file;
    const fn = `${f.functionName || "(anonymous)"} ${module}:${f.lineNumber + 1}  ${file.endsWith(".js") ? lineOf(f) : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const group = module === "(native)" ? `(native) ${f.functionName || "(anonymous)"}` : module.replace(/^node_modules\/((@[^/]+\/)?[^/]+)\/.*/, "$1");
    byModule.set(group, (byModule.get(group) ?? 0) + us);
  }
  // CPU per request while profiled (the profiler's own cost included, so compare profiles with
  // each other, not with the bench's figures): busy samples over the requests answered meanwhile.
  const requests = load.requests.total;
  const busy = [...self.values()].reduce((a, b) => a + b, 0) - idle;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({
      name: name.slice(0, 150), "% of busy": Number(((100 * us) / busy).toFixed(1)), "µs per request": Number((us / requests).toFixed(1)),
    }));
  const what = BARE ? (LOOP ? "the bare Worker's handling in the service's isolate" : "the bare Worker's /run") : `${admission} admission, request log ${requestLog}`;
  console.log(`${c.model}, ${what}, ${LOOP ? "repeated in the isolate (PROFILE_LOOP)" : `${CONNECTIONS} connections`}${BATCHING ? `, batching ${BATCHING.join("/")}` : ""}: ${load.requests.average} req/s while profiled, ${(busy / requests).toFixed(0)} µs of workerd's JS thread busy per request`);
  // By origin: this project's code, its dependencies' JavaScript, ORT's WebAssembly, the runtime.
  const byOrigin = new Map<string, number>();
  for (const [group, us] of byModule) {
    const origin = group.startsWith("src/") ? "src/ (this project)" : group === "bare-worker.ts" ? "the bare Worker" : group.endsWith("loop-worker.ts") || group.endsWith("loop-route.ts") ? "the loop (bench/experiments/loop-route.ts)" : group.startsWith("wasm://") ? "onnxruntime's WebAssembly" : group.startsWith("(native)") || group.startsWith("node-internal") ? "workerd (native)" : "dependencies' JavaScript";
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  console.table(top(byOrigin, 5));
  console.table(top(byModule, 25));
  console.table(top(byFunction, 30));
  if (BATCHING) {
    // The model's own statistics (Triton's batch_stats): runs and their time per batch size, under this load.
    const stats = await batchStats(svc, c.model, { authorization: `Bearer ${target.key}` });
    console.table(stats.filter((b) => b.compute_infer.count >= 10).map((b) => ({
      "batch size": b.batch_size, runs: b.compute_infer.count, "ms per run": Number((b.compute_infer.ns / b.compute_infer.count / 1e6).toFixed(3)),
      "ms per row": Number((b.compute_infer.ns / b.compute_infer.count / 1e6 / b.batch_size).toFixed(3)),
    })));
  }
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", `profile-${c.model}-${BARE ? "bare" : `${admission}-log-${requestLog}`}${BATCHING ? "-batched" : ""}.cpuprofile`), JSON.stringify(profile));
} finally {
  await svc.stop();
  rmSync(state, { recursive: true, force: true });
}
