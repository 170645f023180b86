/**
 * `npm run bench [section ...]`: starts the service and a bare Worker (their deployable bundles in
 * workerd, on their own sockets: bench/local-worker.ts), drives
 * them with autocannon, and prints (and writes to bench/results/) what each section measures.
 * Every figure that is compared is compared with a baseline measured in the same run.
 *
 * Sections (all by default): overhead, json-binary, batching, native, levers, response-cache, heap, cold-start, ort-format.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { runLoad, type ClientLoad, type LoadSpec } from "./load-client.ts";
import { batchOf, binaryBody, CASES, jsonBody, modelBytes, nestedJsonBody, prepareCases, rawInputs, shapesHeader, bareLoad, type Case } from "./cases.ts";
import { provenance } from "./provenance.ts";
import { adminCall, batchStats, placement, root, startBare, startService, type Running } from "./workers.ts";
import { targets, type RunResults } from "./targets.ts";
import { bareRun, feedOf, median, nativePerRun, perInference, timedFetch } from "./inference-time.ts";
import { ortFormatRows } from "./ort-format.ts";
import { coldStartRows } from "./cold-start.ts";

const execFileAsync = promisify(execFile);

const SECTIONS = ["overhead", "json-binary", "batching", "native", "levers", "response-cache", "heap", "cold-start", "ort-format"] as const;
type Section = (typeof SECTIONS)[number];
const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const a of asked) if (!SECTIONS.includes(a as Section)) throw new Error(`unknown section '${a}'; sections: ${SECTIONS.join(", ")}`);
const want = (s: Section) => asked.length === 0 || asked.includes(s);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
/** The batching section's max_queue_delay_ms. */
const BATCH_DELAY_MS = Number(process.env.BENCH_BATCH_DELAY_MS ?? 2);
/** The batching section's max_batch_size for every model, instead of each model's own (64 for iris, 32 otherwise). */
const BATCH_MAX = process.env.BENCH_BATCH_MAX ? Number(process.env.BENCH_BATCH_MAX) : undefined;
/** The overhead section's models (comma-separated; all by default), to measure a few quickly. */
const OVERHEAD_MODELS = process.env.BENCH_OVERHEAD_MODELS?.split(",");
/** The batching section's models and connection counts (comma-separated), to measure a few quickly. */
const BATCH_MODELS = process.env.BENCH_BATCH_MODELS?.split(",");
const BATCH_CONNECTIONS = (process.env.BENCH_BATCH_CONNECTIONS ?? "1,8,32,64").split(",").map(Number);
/**
 * Off/on pairs per model and connection count in the batching section: each pair is measured
 * back to back and gives one ratio; the table shows their median and range (this machine drifts
 * by ±20 % between loads, more than some of the gains measured).
 */
const BATCH_ROUNDS = Math.max(1, Number(process.env.BENCH_BATCH_ROUNDS ?? 3));
/**
 * Load-generator processes for the batching section's loads of 16 connections or more: one Node
 * event loop answering 32 connections held the batched MLP's throughput about 10 % lower than two.
 */
const BATCH_CLIENTS = Math.max(1, Number(process.env.BENCH_BATCH_CLIENTS ?? 2));

const TOKEN = "eia_bench_token";
const SERVICE_PORT = 8801;
const BARE_PORT = 8802;
const results: Record<string, unknown> = { at: new Date().toISOString(), ...provenance(), duration_seconds: DURATION, placement: placement ?? "scheduler" };
const round = (x: number, d = 2) => Number(x.toFixed(d));

interface Load {
  rps: number; p50: number; p99: number; errors: number; non2xx: number;
  /** CPU milliseconds per request of the driven Worker's processes: its workerd, and the node hosting it. */
  workerdMs: number; hostMs: number;
}

/** Runs a load split over `clients` processes of bench/load-client.ts; their figures, one each. */
async function clientProcesses(clients: number, spec: LoadSpec): Promise<ClientLoad[]> {
  const dir = mkdtempSync(join(tmpdir(), "edge-inference-load-"));
  try {
    const bodyFile = spec.body ? join(dir, "body") : null;
    if (bodyFile) writeFileSync(bodyFile, spec.body!);
    return await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        // Connections split as evenly as they go.
        const connections = Math.floor(spec.connections / clients) + (i < spec.connections % clients ? 1 : 0);
        const config = JSON.stringify({ ...spec, body: undefined, bodyFile, connections });
        const { stdout } = await execFileAsync(process.execPath, [join(root, "bench", "load-client.ts"), config], { maxBuffer: 1 << 20 });
        return JSON.parse(stdout.trim().split("\n").at(-1)!) as ClientLoad;
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Drives `url` (served by `target`) for DURATION seconds after a one-second warm-up: throughput,
 * latency percentiles, and the CPU the target's processes spent per request. With `clients` > 1
 * the load comes from that many processes, connections split between them; p50 and p99 are then
 * the worst of theirs.
 */
async function drive(target: Running, url: string, opts: { body?: Buffer; headers: Record<string, string>; connections: number; seconds?: number; clients?: number }): Promise<Load> {
  const spec: LoadSpec = { url, method: opts.body ? "POST" : "GET", body: opts.body, headers: opts.headers, connections: opts.connections, seconds: opts.seconds ?? DURATION };
  const clients = Math.min(opts.clients ?? 1, opts.connections);
  await runLoad({ ...spec, seconds: 1 });
  const before = target.cpu();
  const parts = clients > 1 ? await clientProcesses(clients, spec) : [await runLoad(spec)];
  const after = target.cpu();
  const total = parts.reduce((n, p) => n + p.total, 0);
  const perRequest = (s: number) => round((1000 * s) / Math.max(1, total), 3);
  return {
    rps: round(parts.reduce((n, p) => n + p.average, 0), 1), p50: Math.max(...parts.map((p) => p.p50)), p99: Math.max(...parts.map((p) => p.p99)),
    errors: parts.reduce((n, p) => n + p.errors, 0), non2xx: parts.reduce((n, p) => n + p.non2xx, 0),
    workerdMs: perRequest(after.workerd - before.workerd), hostMs: perRequest(after.other - before.other),
  };
}

const admin = (svc: Running, method: string, path: string, body?: BodyInit, type?: string) => adminCall(svc, TOKEN, method, path, body, type);

/** Publishes the models; returns a key of a tenant with exact admission and one with leased. */
async function prepareService(svc: Running): Promise<{ exact: string; leased: string }> {
  for (const c of CASES) await admin(svc, "PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
  const keyOf = async (tenant: string, admission: string) => {
    await admin(svc, "PUT", `/tenants/${tenant}`, JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission }));
    return (await admin(svc, "POST", `/tenants/${tenant}/keys`, "{}")).key as string;
  };
  return { exact: await keyOf("bench", "exact"), leased: await keyOf("bench-leased", "leased") };
}

function table(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n## ${title}`);
  console.table(rows);
}

prepareCases();
const state = mkdtempSync(join(tmpdir(), "edge-inference-bench-"));
let service: Running | undefined;
let bare: Running | undefined;
try {
  console.log(`bench: starting the service and the bare Worker (state in ${state}) ...`);
  console.log(placement
    ? `bench: workerd on core ${placement.workerd}, the load generators and Miniflare's node on ${placement.rest} (BENCH_PIN=0: left to the scheduler)`
    : "bench: processes placed by the scheduler (BENCH_PIN=0, one core, or no taskset)");
  [service, bare] = await Promise.all([startService(state, SERVICE_PORT, TOKEN), startBare(BARE_PORT)]);
  const keys = await prepareService(service);
  const exactAuth = { authorization: `Bearer ${keys.exact}` };
  // The comparisons within the service (JSON/binary, batching, cold start) use the leased tenant,
  // whose requests mostly skip the rate-limit round trip, so the part measured is not drowned.
  const auth = { authorization: `Bearer ${keys.leased}` };
  const inferUrl = (c: Case) => `${service!.url}/v2/models/${c.model}/versions/1/infer`;

  if (want("heap")) {
    // First, while the bare Worker's isolate is fresh: ORT's heap as each model is loaded.
    const before = ((await (await fetch(`${bare.url}/heap`)).json()) as { wasm_heap_bytes: number | null }).wasm_heap_bytes;
    const rows = [];
    for (const c of CASES) {
      const { wasm_heap_bytes } = await bareLoad(bare, c);
      rows.push({ model: c.model, file_bytes: modelBytes(c).length, wasm_heap_mib_after_load: round(wasm_heap_bytes / 2 ** 20, 1) });
    }
    // The largest model alone in a fresh isolate, as loaded and without ORT's repacked weights.
    const big = CASES.reduce((a, b) => (modelBytes(b).length > modelBytes(a).length ? b : a));
    const alone = [];
    for (const [label, tuning] of [["default", {}], ["no prepacking", { disablePrepacking: true }]] as const) {
      const fresh = await startBare(BARE_PORT + 10);
      try {
        const { wasm_heap_bytes } = await bareLoad(fresh, big, tuning);
        alone.push({ model: big.model, file_mib: round(modelBytes(big).length / 2 ** 20, 1), session: label, wasm_heap_mib_after_load: round(wasm_heap_bytes / 2 ** 20, 1), "ms per inference": round(await perInference(fresh, big), 3) });
      } finally {
        await fresh.stop();
      }
    }
    // What one request's batch does to the heap, which never shrinks: each batchable model alone in
    // a fresh isolate, one request each of growing batches (what max_batch_size guards against).
    const perBatch = [];
    for (const c of CASES.filter((x) => x.model === "cnn" || x.model === "mlp")) {
      const fresh = await startBare(BARE_PORT + 10);
      try {
        const { wasm_heap_bytes: loaded } = await bareLoad(fresh, c);
        const row: Record<string, unknown> = { model: c.model, "heap MiB after load": round(loaded / 2 ** 20, 1) };
        for (const rows of [1, 8, 32]) {
          const { shapes, bytes } = batchOf(c, rows);
          await bareRun(fresh, c, { shapes: JSON.stringify(shapes), body: bytes });
          row[`after a batch of ${rows}`] = round(((await (await fetch(`${fresh.url}/heap`)).json()) as { wasm_heap_bytes: number }).wasm_heap_bytes / 2 ** 20, 1);
        }
        perBatch.push(row);
      } finally {
        await fresh.stop();
      }
    }
    // What one request's body costs in memory, JSON against binary tensors: workerd's peak resident
    // memory before and after one request of N images (after one of one image, so onnxruntime, the
    // session and the code paths are in place), each in a fresh service, as the peak never falls.
    const perBody = [];
    const images = CASES.find((x) => x.model === "image-linear")!;
    for (const n of [2, 4]) {
      for (const kind of ["JSON", "binary"] as const) {
        const memState = mkdtempSync(join(tmpdir(), "edge-inference-bench-memory-"));
        const fresh = await startService(memState, SERVICE_PORT + 4, TOKEN);
        try {
          await admin(fresh, "PUT", `/models/${images.model}/versions/1`, modelBytes(images), "application/octet-stream");
          await admin(fresh, "PUT", "/tenants/memory", JSON.stringify({ requests_per_minute: 1000 }));
          const key = (await admin(fresh, "POST", "/tenants/memory/keys", "{}")).key as string;
          const send = (body: Buffer, headers: Record<string, string>) =>
            timedFetch(`${fresh.url}/v2/models/${images.model}/versions/1/infer`, { method: "POST", headers: { authorization: `Bearer ${key}`, ...headers }, body });
          await send(jsonBody(images), { "content-type": "application/json" });
          const { shapes, bytes } = batchOf(images, n);
          const batch: Case = { ...images, inputs: [{ ...images.inputs[0]!, shape: shapes[0]!, data: Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)) }] };
          const bin = binaryBody(batch);
          const body = kind === "JSON" ? jsonBody(batch) : bin.body;
          const peak = fresh.peakMemoryMiB();
          await send(body, kind === "JSON" ? { "content-type": "application/json" } : { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) });
          const rise = fresh.peakMemoryMiB() - peak;
          perBody.push({ images: n, body: kind, "body MB": round(body.length / 1e6, 1), "peak MiB before": round(peak, 0), "rise MiB": round(rise, 1), "rise ÷ body size": round((rise * 2 ** 20) / body.length, 2) });
        } finally {
          await fresh.stop();
          rmSync(memState, { recursive: true, force: true });
        }
      }
    }
    results.heap = { before_any_model: before, rows, largest_alone: alone, per_batch: perBatch, per_body: perBody };
    table("WASM heap after loading each model in turn (one isolate; 128 MB budget for everything)", rows);
    table("The largest model alone in a fresh isolate: the heap it needs, with and without ORT's prepacked weights", alone);
    table("One request's batch and the heap (MiB, never shrinks): each model alone in a fresh isolate, one request of each batch in turn", perBatch);
    table("One request's body and workerd's peak resident memory, JSON against binary tensors (image-linear; a fresh service for each)", perBody);
  }

  for (const c of CASES) await bareLoad(bare, c);

  if (want("overhead")) {
    // A second service with the per-request log line off, on its own state, to show that line's cost.
    const quietState = mkdtempSync(join(tmpdir(), "edge-inference-bench-quiet-"));
    const quiet = await startService(quietState, SERVICE_PORT + 2, TOKEN, { REQUEST_LOG: "off" });
    const quietKeys = await prepareService(quiet);
    const rows: Record<string, unknown>[] = [];
    const cpuRows: Record<string, unknown>[] = [];
    // Per model, the bare Worker's load writing a log line and the service's, for the bound below.
    const logging: { model: string; bareLog: Load; service: Load }[] = [];
    for (const c of CASES.filter((x) => !OVERHEAD_MODELS || OVERHEAD_MODELS.includes(x.model))) {
      const bin = binaryBody(c);
      const binHeaders = { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) };
      // Two interleaved rounds, the better of each: this machine's noise is larger than the
      // differences measured. The bare Worker runs twice: as is, and writing the service's log line.
      const bareWorker = bare;
      const driveBare = (log: boolean) => drive(bareWorker, `${bareWorker.url}/run/${c.model}${log ? "?log=1" : ""}`, { body: rawInputs(c), headers: { "x-shapes": shapesHeader(c) }, connections: 4 });
      const runs: Load[][] = [[], [], [], [], []];
      for (let round = 0; round < 2; round++) {
        runs[0]!.push(await driveBare(false));
        runs[1]!.push(await driveBare(true));
        runs[2]!.push(await drive(service, inferUrl(c), { body: bin.body, headers: { ...auth, ...binHeaders }, connections: 4 }));
        runs[3]!.push(await drive(service, inferUrl(c), { body: bin.body, headers: { ...exactAuth, ...binHeaders }, connections: 4 }));
        runs[4]!.push(await drive(quiet, `${quiet.url}/v2/models/${c.model}/versions/1/infer`, { body: bin.body, headers: { authorization: `Bearer ${quietKeys.leased}`, ...binHeaders }, connections: 4 }));
      }
      const best = (xs: Load[]) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
      const [b0, bLog, leased, exact, quietLoad] = runs.map(best) as [Load, Load, Load, Load, Load];
      rows.push({
        model: c.model, "bare req/s": b0.rps, "bare + log line req/s": bLog.rps, "service req/s": leased.rps,
        "service/bare, both logging": round(leased.rps / bLog.rps, 3),
        "service, no log line/bare": round(quietLoad.rps / b0.rps, 3),
        "service/bare as is": round(leased.rps / b0.rps, 3),
        "exact admission/bare, both logging": round(exact.rps / bLog.rps, 3),
        "p50/p99 ms: bare, service, exact": `${b0.p50}/${b0.p99}, ${leased.p50}/${leased.p99}, ${exact.p50}/${exact.p99}`,
        errors: [b0, bLog, leased, exact, quietLoad].reduce((n, l) => n + l.errors + l.non2xx, 0),
      });
      logging.push({ model: c.model, bareLog: bLog, service: leased });
      cpuRows.push({
        model: c.model, "workerd ms/req: bare, bare + log, service, service no log": `${b0.workerdMs}, ${bLog.workerdMs}, ${leased.workerdMs}, ${quietLoad.workerdMs}`,
        "service/bare, both logging (workerd)": round(leased.workerdMs / bLog.workerdMs, 2),
        "service, no log line/bare (workerd)": round(quietLoad.workerdMs / b0.workerdMs, 2),
        "host node ms/req: bare, bare + log, service, service no log": `${b0.hostMs}, ${bLog.hostMs}, ${leased.hostMs}, ${quietLoad.hostMs}`,
      });
    }
    await quiet.stop();
    rmSync(quietState, { recursive: true, force: true });
    results.overhead = rows;
    results.overhead_cpu = cpuRows;
    table("Overhead: the full service (auth, rate limit with leased admission (the default), routing, binary codec, statistics, log line) against the bare Worker running the same session, binary requests, 4 connections. Like for like: both writing one log line per request, or neither", rows);
    table("CPU per request during those runs: workerd (the Worker itself, what a deployment is billed and limited by) and the node process hosting it (Miniflare, reading the log lines; local only)", cpuRows);
    // Where the overhead goes: the same Worker's cheapest route, then one that passes auth and the
    // tenant's Durable Object (one RPC per request), against the bare Worker's cheapest.
    const floor = await drive(bare, `${bare.url}/heap`, { headers: {}, connections: 4 });
    const floorLog = await drive(bare, `${bare.url}/heap?log=1`, { headers: {}, connections: 4 });
    const health = await drive(service, `${service.url}/v2/health/live`, { headers: {}, connections: 4 });
    const keyed = await drive(service, `${service.url}/v2`, { headers: exactAuth, connections: 4 });
    const keyedLeased = await drive(service, `${service.url}/v2`, { headers: auth, connections: 4 });
    const parts = [
      { route: "bare Worker GET /heap (HTTP floor)", "req/s": floor.rps, relative: 1, p50: floor.p50, "workerd ms/req": floor.workerdMs, "host ms/req": floor.hostMs },
      { route: "bare Worker GET /heap?log=1 (one console.log)", "req/s": floorLog.rps, relative: round(floorLog.rps / floor.rps, 3), p50: floorLog.p50, "workerd ms/req": floorLog.workerdMs, "host ms/req": floorLog.hostMs },
      { route: "service GET /v2/health/live (no key)", "req/s": health.rps, relative: round(health.rps / floor.rps, 3), p50: health.p50, "workerd ms/req": health.workerdMs, "host ms/req": health.hostMs },
      { route: "service GET /v2 (key, leased)", "req/s": keyedLeased.rps, relative: round(keyedLeased.rps / floor.rps, 3), p50: keyedLeased.p50, "workerd ms/req": keyedLeased.workerdMs, "host ms/req": keyedLeased.hostMs },
      { route: "service GET /v2 (key, exact: a Durable Object call each)", "req/s": keyed.rps, relative: round(keyed.rps / floor.rps, 3), p50: keyed.p50, "workerd ms/req": keyed.workerdMs, "host ms/req": keyed.hostMs },
    ];
    results.overhead_breakdown = parts;
    table("Where the overhead goes (no model): the log line and the per-request rate-limit RPC", parts);
    // The service's fixed cost per keyed request, whatever the model: its keyed route without a model
    // (routing, auth, leased admission, its log line) less the bare floor writing the same line. Were
    // the inference path itself free beyond the bare Worker's, that cost alone caps service/bare.
    const fixedMs = keyedLeased.workerdMs - floorLog.workerdMs;
    const ceilings = logging.map(({ model, bareLog, service: served }) => ({
      model, "bare + log workerd ms/req": bareLog.workerdMs, "service fixed ms/req": round(fixedMs, 3),
      "bound: bare / (bare + fixed)": round(bareLog.workerdMs / (bareLog.workerdMs + fixedMs), 2),
      "measured: bare / service (workerd, both logging)": round(bareLog.workerdMs / served.workerdMs, 2),
    }));
    results.overhead_bound = ceilings;
    table("What the service's fixed per-request cost alone allows (workerd CPU, both logging): a model whose bare request costs less than nine times that cannot reach 0.9 of bare", ceilings);
  }

  if (want("json-binary")) {
    const rows = [];
    for (const c of CASES.filter((x) => x.model === "image-linear" || x.model === "cnn")) {
      const bin = binaryBody(c);
      const json = jsonBody(c);
      const asJson = await drive(service, inferUrl(c), { body: json, headers: { ...auth, "content-type": "application/json" }, connections: 1 });
      // The same data nested to its shape, as many clients send it (read in one pass, as flat data is).
      const asNested = await drive(service, inferUrl(c), { body: nestedJsonBody(c), headers: { ...auth, "content-type": "application/json" }, connections: 1 });
      const asBinary = await drive(service, inferUrl(c), { body: bin.body, headers: { ...auth, "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) }, connections: 1 });
      // The JSON gzip-compressed (Content-Encoding: gzip): fewer bytes on a slow link, more CPU in the Worker.
      const gzipped = gzipSync(json);
      const asGzip = await drive(service, inferUrl(c), { body: gzipped, headers: { ...auth, "content-type": "application/json", "content-encoding": "gzip" }, connections: 1 });
      // Floors: the bare Worker running the session on the raw bytes (what binary could reach at
      // best), and merely reading each body (what moving the bytes costs the Worker).
      const floor = await drive(bare, `${bare.url}/run/${c.model}`, { body: rawInputs(c), headers: { "x-shapes": shapesHeader(c) }, connections: 1 });
      const sinkJson = await drive(bare, `${bare.url}/sink`, { body: json, headers: {}, connections: 1 });
      const sinkBinary = await drive(bare, `${bare.url}/sink`, { body: bin.body, headers: {}, connections: 1 });
      const beyond = (l: Load, sink: Load) => Math.max(0.001, l.workerdMs - sink.workerdMs);
      // The Worker's own work for one request (the service's codec, the run, the answer's
      // encoding), timed as K requests' work in one request against one's.
      const work = async (body: Buffer, headers: Record<string, string>) => {
        const once = (n: number) => timedFetch(`${bare!.url}/codec/${c.model}?n=${n}`, { method: "POST", headers, body });
        await once(2);
        const samples = [];
        for (let i = 0; i < 5; i++) samples.push(((await once(21)) - (await once(1))) / 20);
        return median(samples);
      };
      const jsonWork = await work(json, { "content-type": "application/json" });
      const binaryWork = await work(bin.body, { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) });
      rows.push({
        model: c.model, input: "1×3×224×224 FP32", "JSON bytes": json.length, "binary bytes": bin.body.length,
        "JSON req/s": asJson.rps, "binary req/s": asBinary.rps, "binary/JSON throughput": round(asBinary.rps / asJson.rps, 2),
        "nested JSON req/s": asNested.rps, "binary/nested JSON": round(asBinary.rps / asNested.rps, 2),
        "gzip JSON bytes": gzipped.length, "gzip JSON req/s": asGzip.rps, "gzip JSON/JSON throughput": round(asGzip.rps / asJson.rps, 2),
        "gzip JSON/JSON, workerd CPU": round(asGzip.workerdMs / asJson.workerdMs, 2),
        "bare req/s (binary's ceiling)": floor.rps, "bare/JSON (best possible)": round(floor.rps / asJson.rps, 2),
        "p50 ms: JSON, binary, bare": `${asJson.p50}, ${asBinary.p50}, ${floor.p50}`,
        "workerd ms/req: JSON, binary, bare": `${asJson.workerdMs}, ${asBinary.workerdMs}, ${floor.workerdMs}`,
        "workerd ms/req reading the body alone: JSON, binary": `${sinkJson.workerdMs}, ${sinkBinary.workerdMs}`,
        "binary/JSON, workerd CPU beyond reading the body": round(beyond(asJson, sinkJson) / beyond(asBinary, sinkBinary), 2),
        "Worker's own ms per request (codec, run, encode): JSON, binary": `${round(jsonWork, 3)}, ${round(binaryWork, 3)}`,
        "binary/JSON, the Worker's own work": round(jsonWork / binaryWork, 2),
        errors: [asJson, asNested, asBinary, asGzip].reduce((n, l) => n + l.errors + l.non2xx, 0),
      });
    }
    results.json_binary = rows;
    table("JSON against binary tensors, end to end, one connection (leased tenant); the bare Worker on the same bytes is binary's ceiling; workerd CPU net of merely reading each body", rows);
  }

  if (want("batching")) {
    // First what batching can give at most: inference time per row in one run of 1, 8 and 32 rows.
    const bound = [];
    for (const c of CASES) {
      const [one, eight, many] = [await perInference(bare, c, 1), await perInference(bare, c, 8), (await perInference(bare, c, 32))];
      // The same batches in native onnxruntime on the same CPU: what its kernels make of rows run together.
      const [nativeOne, nativeMany] = await nativePerRun(c, [1, 32]);
      bound.push({
        model: c.model, "ms per row, batch 1": round(one, 3), "batch 8": round(eight / 8, 3), "batch 32": round(many / 32, 3),
        "inference speed-up at 32": round(one / (many / 32), 2),
        "native ms per row, batch 1, 32": `${round(nativeOne, 4)}, ${round(nativeMany / 32, 4)}`,
        "native speed-up at 32": round(nativeOne / (nativeMany / 32), 2),
      });
    }
    results.batching_inference = bound;
    table("What batching can give: inference time per row by batch size, in the bare Worker (the end-to-end gain cannot exceed this), and in native onnxruntime on the same CPU", bound);
    const rows = [];
    // The service isolate's batching counters (cumulative for the session's batcher).
    const counters = async (model: string) =>
      ((await admin(service!, "GET", `/models/${model}`)).versions[0].batching as { runs: number; requests: number } | undefined) ?? { runs: 0, requests: 0 };
    // The model's own statistics (Triton's batch_stats): rows inferred and time in runs, so far.
    const inferred = async (model: string) => {
      let rows = 0;
      let ns = 0;
      for (const b of await batchStats(service!, model, auth)) {
        rows += b.batch_size * b.compute_infer.count;
        ns += b.compute_infer.ns;
      }
      return { rows, ns };
    };
    /** Inference milliseconds per row while `load` ran: what the service's runs took, from its statistics. */
    const inferenceDuring = async (model: string, load: () => Promise<Load>): Promise<{ load: Load; inferMs: number }> => {
      const before = await inferred(model);
      const result = await load();
      const after = await inferred(model);
      return { load: result, inferMs: (after.ns - before.ns) / 1e6 / Math.max(1, after.rows - before.rows) };
    };
    const plans: [string, "json" | "binary", number][] = [["iris", "json", 64], ["mlp", "binary", 32], ["silero-vad", "binary", 32], ["cnn", "binary", 32], ["encoder", "binary", 32]];
    for (const [model, codec, planMax] of plans.filter(([m]) => !BATCH_MODELS || BATCH_MODELS.includes(m))) {
      const maxBatch = BATCH_MAX ?? planMax;
      const c = CASES.find((x) => x.model === model)!;
      const bin = binaryBody(c);
      const body = codec === "json" ? jsonBody(c) : bin.body;
      const headers = codec === "json"
        ? { ...auth, "content-type": "application/json" }
        : { ...auth, "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) };
      for (const connections of BATCH_CONNECTIONS) {
        const pairs: { off: Load; on: Load; perRun: number; inferOff: number; inferOn: number }[] = [];
        for (let round = 0; round < BATCH_ROUNDS; round++) {
          await admin(service, "PUT", `/models/${model}/config`, JSON.stringify({}));
          const clients = connections >= 16 ? BATCH_CLIENTS : 1;
          const load = () => drive(service!, inferUrl(c), { body, headers, connections, clients, seconds: Math.max(3, DURATION - 1) });
          const off = await inferenceDuring(model, load);
          await admin(service, "PUT", `/models/${model}/config`, JSON.stringify({ dynamic_batching: { max_batch_size: maxBatch, max_queue_delay_ms: BATCH_DELAY_MS, ...c.batching } }));
          const before = await counters(model);
          const on = await inferenceDuring(model, load);
          const after = await counters(model);
          pairs.push({ off: off.load, on: on.load, perRun: (after.requests - before.requests) / Math.max(1, after.runs - before.runs), inferOff: off.inferMs, inferOn: on.inferMs });
        }
        const ratios = pairs.map((p) => p.on.rps / p.off.rps);
        const cpuRatios = pairs.map((p) => p.off.workerdMs / p.on.workerdMs);
        // The pair whose ratio is the median, for the absolute figures.
        const mid = pairs[ratios.indexOf(median(ratios))]!;
        const span = (xs: number[]) => (xs.length > 1 ? `${round(Math.min(...xs), 2)}–${round(Math.max(...xs), 2)}` : String(round(xs[0]!, 2)));
        rows.push({
          model, codec, connections, "off req/s": mid.off.rps, "on req/s": mid.on.rps, "on/off (median)": round(median(ratios), 2), "on/off range": span(ratios),
          "off p50/p99 ms": `${mid.off.p50}/${mid.off.p99}`, "on p50/p99 ms": `${mid.on.p50}/${mid.on.p99}`,
          "requests per run": round(pairs.reduce((n, p) => n + p.perRun, 0) / pairs.length, 1),
          "workerd ms/req off, on": `${mid.off.workerdMs}, ${mid.on.workerdMs}`, "on/off (workerd CPU, median)": round(median(cpuRatios), 2),
          // The same requests' CPU split: inference (the model's runs, per request) and the rest (HTTP, auth, codec, ...).
          "inference ms/req off, on": `${round(mid.inferOff, 3)}, ${round(mid.inferOn, 3)}`,
          "rest ms/req off, on": `${round(mid.off.workerdMs - mid.inferOff, 3)}, ${round(mid.on.workerdMs - mid.inferOn, 3)}`,
          // What batching could give were the rest free: the bound inference alone sets at this load.
          "inference-only bound": round(mid.inferOff / Math.max(1e-6, mid.inferOn), 2),
          errors: pairs.reduce((n, p) => n + p.off.errors + p.off.non2xx + p.on.errors + p.on.non2xx, 0),
        });
      }
      await admin(service, "PUT", `/models/${model}/config`, JSON.stringify({}));
    }
    results.batching = rows;
    table(`Dynamic batching off against on, end to end (max_batch_size ${BATCH_MAX ?? "64 for iris, 32 otherwise"}; max_queue_delay_ms ${BATCH_DELAY_MS}; ${BATCH_ROUNDS} off/on pairs each, median and range of their ratios; loads of 16 connections or more from ${BATCH_CLIENTS} client processes)`, rows);
  }

  if (want("native")) {
    const rows = [];
    for (const c of CASES) {
      const worker = await perInference(bare, c);
      const [native] = await nativePerRun(c, [1]);
      rows.push({ model: c.model, what: c.what, "workerd ms": round(worker, 3), "native ms": round(native, 3), "workerd/native": round(worker / native, 2) });
    }
    results.native = rows;
    table("Per inference: onnxruntime-web in workerd against onnxruntime-node (one thread), same inputs", rows);
  }

  if (want("levers")) {
    const variants: [string, object][] = [
      ["default (graph all)", {}],
      ["graph extended", { graphOptimizationLevel: "extended" }],
      ["graph basic", { graphOptimizationLevel: "basic" }],
      ["graph disabled", { graphOptimizationLevel: "disabled" }],
      ["no mem pattern", { enableMemPattern: false }],
      ["no CPU arena", { enableCpuMemArena: false }],
      ["no prepacking", { disablePrepacking: true }],
      // Only for models whose first dimension is the symbolic 'batch' (not Silero's).
      ["batch fixed to 1", { freeDimensionOverrides: { batch: 1 } }],
    ];
    const rows = [];
    // The same at 8 rows a run (per row), as dynamic batching runs them: a lever can help one row
    // and hurt a batch (prepacking off: the MLP's one-row runs faster, its batches far slower).
    const batchedRows = [];
    const levers = variants.slice(1);
    for (const c of CASES) {
      // Each variant against the default measured just before it, on freshly loaded sessions, in
      // two passes, the second in reverse order; the ratio is the mean of the two. Run alone, the
      // section's first lever read 0.28–0.44 for iris and Silero in one order: its position.
      const ratios = new Map<string, number[]>();
      const bases: number[] = [];
      const batchedBases: number[] = [];
      for (const pass of [levers, [...levers].reverse()]) {
        for (const [name, tuning] of pass) {
          const atEight = !("freeDimensionOverrides" in tuning);
          await bareLoad(bare, c);
          const base = await perInference(bare, c);
          const base8 = atEight ? await perInference(bare, c, 8) : NaN;
          bases.push(base);
          if (atEight) batchedBases.push(base8 / 8);
          await bareLoad(bare, c, tuning);
          const add = (key: string, ratio: number) => ratios.set(key, [...(ratios.get(key) ?? []), ratio]);
          add(name, (await perInference(bare, c)) / base);
          if (atEight) add(`${name} @8`, (await perInference(bare, c, 8)) / base8);
        }
      }
      await bareLoad(bare, c);
      const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length, 2);
      const row: Record<string, unknown> = { model: c.model, "default ms (median)": round(median(bases), 3) };
      const batched: Record<string, unknown> = { model: c.model, "default ms a row (median)": round(median(batchedBases), 3) };
      for (const [name] of levers) {
        row[name] = mean(ratios.get(name)!);
        if (ratios.has(`${name} @8`)) batched[name] = mean(ratios.get(`${name} @8`)!);
      }
      rows.push(row);
      batchedRows.push(batched);
    }
    results.levers = rows;
    results.levers_at_8_rows = batchedRows;
    table("onnxruntime levers: per-inference time relative to the default measured just before (lower is faster; the mean of two passes in opposite orders)", rows);
    table("The same levers on runs of 8 rows (as dynamic batching makes them): time a row relative to the default's", batchedRows);
  }

  if (want("response-cache")) {
    // One request sent again and again (binary, 4 connections), the model's response cache off and
    // then on, so every request but the first is a hit: what a hit saves over a run, key hashing
    // included. Two rounds, the better load of each setting.
    const rows: Record<string, unknown>[] = [];
    for (const c of CASES) {
      const bin = binaryBody(c);
      const headers = { ...auth, "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(bin.headerLength) };
      const loads: [Load[], Load[]] = [[], []];
      for (let r = 0; r < 2; r++) {
        for (const on of [false, true]) {
          await admin(service, "PUT", `/models/${c.model}/config`, JSON.stringify(on ? { response_cache: { ttl_seconds: 3600 } } : {}));
          loads[on ? 1 : 0].push(await drive(service, inferUrl(c), { body: bin.body, headers, connections: 4 }));
        }
      }
      await admin(service, "PUT", `/models/${c.model}/config`, JSON.stringify({}));
      const best = (xs: Load[]) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
      const [off, on] = [best(loads[0]), best(loads[1])];
      rows.push({
        model: c.model, "rps off": off.rps, "rps on (hits)": on.rps, "rps on/off": round(on.rps / off.rps),
        "workerd CPU ms/req off": off.workerdMs, "on": on.workerdMs, "CPU on/off": round(on.workerdMs / off.workerdMs),
        "p50 ms off": off.p50, "p50 on": on.p50, errors: off.errors + on.errors + off.non2xx + on.non2xx,
      });
    }
    results.response_cache = rows;
    table("Response cache: the same request repeated, cache off vs on (every request after the first a hit); ratios within this run", rows);
  }

  if (want("ort-format")) {
    const rows = await ortFormatRows(bare);
    results.ort_format = rows;
    table("Session creation from ORT format (.ort, optimised by onnxruntime-node) against the .onnx (lower is faster)", rows);
  }

  if (want("cold-start")) {
    // Its own services (the base's and this tree's, a fresh workerd per model and pass), on the next port.
    const cold = await coldStartRows(SERVICE_PORT + 2, TOKEN);
    results.cold_start = cold.rows;
    results.cold_start_base = cold.commit;
    table(`A fresh isolate's first prediction of each model against its warm ones, median of passes: base ${cold.commit.slice(0, 12)} and this tree (ms)`, cold.rows);
  }
} finally {
  await Promise.all([service?.stop(), bare?.stop()]);
  rmSync(state, { recursive: true, force: true });
}

results.targets = targets(results as RunResults);
table("Targets (issue 5), judged on this run", results.targets as Record<string, unknown>[]);

const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${String(results.at).replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten: ${file} (and bench/results/latest.json)`);
