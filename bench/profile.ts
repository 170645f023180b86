/**
 * `npm run bench:profile [model] [exact|leased]`: where the service's CPU goes. Starts the service
 * (bench/local-worker.ts), drives binary inference requests at it with autocannon while workerd's V8
 * CPU profiler runs (through the inspector), and prints the functions with the most self time,
 * grouped by source file. Default: iris, leased admission, 4 connections.
 *
 * Environment: PROFILE_CONNECTIONS (the load's concurrent clients), PROFILE_BATCHING
 * ("max_batch_size,max_queue_delay_ms": profile with the model's dynamic batching on, along the
 * axes its bench case names).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import WebSocket from "ws";
import { binaryBody, CASES, modelBytes } from "./cases.ts";
import { batchStats, root, startService } from "./workers.ts";

const [modelName = "iris", admission = "leased", requestLog = "on"] = process.argv.slice(2);
const c = CASES.find((x) => x.model === modelName);
if (!c) throw new Error(`no case ${modelName}; cases: ${CASES.map((x) => x.model).join(", ")}`);
const PORT = 8821;
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 4);
const BATCHING = process.env.PROFILE_BATCHING?.split(",").map(Number);
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

const state = mkdtempSync(join(tmpdir(), "edge-inference-profile-"));
const svc = await startService(state, PORT, TOKEN, { REQUEST_LOG: requestLog }, true);
try {
  const admin = (method: string, path: string, body?: BodyInit, type = "application/json") =>
    fetch(`${svc.url}/admin${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": type }, body }).then((r) => r.json());
  await admin("PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
  if (BATCHING) {
    const [max_batch_size, max_queue_delay_ms] = BATCHING;
    const dynamic_batching = { max_batch_size, max_queue_delay_ms, ...c.batching };
    await admin("PUT", `/models/${c.model}/config`, JSON.stringify({ dynamic_batching }));
  }
  await admin("PUT", "/tenants/p", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission }));
  const key = ((await admin("POST", "/tenants/p/keys", "{}")) as { key: string }).key;
  const bin = binaryBody(c);
  const opts = {
    url: `${svc.url}/v2/models/${c.model}/versions/1/infer`, method: "POST" as const, body: bin.body, connections: CONNECTIONS,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) },
  };
  await autocannon({ ...opts, duration: 2 });
  const ins = await inspector(PORT + 1000);
  await ins.send("Profiler.enable");
  await ins.send("Profiler.setSamplingInterval", { interval: 100 });
  await ins.send("Profiler.start");
  const load = await autocannon({ ...opts, duration: 5 });
  const { profile } = (await ins.send("Profiler.stop")) as { profile: Profile };
  // The bundle's lines, to show what each hot function is (the bundle is gone once the Worker stops).
  await ins.send("Debugger.enable");
  const sources = new Map<string, string[]>();
  for (const id of new Set(profile.nodes.map((n) => n.callFrame.scriptId).filter((x) => x && x !== "0"))) {
    const source = (await ins.send("Debugger.getScriptSource", { scriptId: id })) as { scriptSource?: string } | undefined;
    if (source?.scriptSource && source.scriptSource.length < 50_000_000) {
      sources.set(id, source.scriptSource.split("\n"));
      if (source.scriptSource.includes("createApp")) writeFileSync(join(root, "bench", "results", "profiled-bundle.js"), source.scriptSource);
    }
  }
  const lineOf = (f: Node["callFrame"]) => (sources.get(f.scriptId)?.[f.lineNumber] ?? "").slice(Math.max(0, f.columnNumber - 10), f.columnNumber + 70).trim();
  ins.close();
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const file = node.callFrame.url.replace(/^.*\/(src|node_modules|bench)\//, "$1/") || "(native)";
    const fn = `${node.callFrame.functionName || "(anonymous)"} ${file}:${node.callFrame.lineNumber + 1}  ${file.endsWith(".js") ? lineOf(node.callFrame) : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name: name.slice(0, 150), "% of samples": Number(((100 * us) / total).toFixed(1)) }));
  console.log(`${c.model}, ${admission} admission, ${CONNECTIONS} connections${BATCHING ? `, batching ${BATCHING.join("/")}` : ""}: ${load.requests.average} req/s while profiled`);
  console.table(top(byFile, 15));
  console.table(top(byFunction, 25));
  if (BATCHING) {
    // The model's own statistics (Triton's batch_stats): runs and their time per batch size, under this load.
    const stats = await batchStats(svc, c.model, { authorization: `Bearer ${key}` });
    console.table(stats.filter((b) => b.compute_infer.count >= 10).map((b) => ({
      "batch size": b.batch_size, runs: b.compute_infer.count, "ms per run": Number((b.compute_infer.ns / b.compute_infer.count / 1e6).toFixed(3)),
      "ms per row": Number((b.compute_infer.ns / b.compute_infer.count / 1e6 / b.batch_size).toFixed(3)),
    })));
  }
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", `profile-${c.model}-${admission}${BATCHING ? "-batched" : ""}.cpuprofile`), JSON.stringify(profile));
} finally {
  await svc.stop();
  rmSync(state, { recursive: true, force: true });
}
