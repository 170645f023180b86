/**
 * `npm run bench:ab-http [ref] [model ...]`: does a change pay over HTTP? The service as it is at a
 * git ref (default HEAD) and as it is in the working tree, each in its own workerd on its own
 * socket (the same core when pinned), driven in turn by the same autocannon load (ABBA, so the
 * machine's drift falls on both alike). Where bench:ab times requests built inside the isolate,
 * this one sees what only a real connection does: a body streamed from a socket, the response
 * written back to one.
 *
 * The ref's src/, package.json, wrangler.toml and public/ are copied to bench/.ab/http-base/ (node_modules
 * linked). The table gives, per request kind, the ratio current ÷ base of the workerd CPU per
 * request (median of rounds' ratios, and of the rounds' least) and of the throughput.
 *
 * Environment: AB_FORMATS (binary, json; default binary), AB_ROUNDS (default 8), AB_SECONDS
 * (each load; default 3), AB_CONNECTIONS (default 4), AB_VARS ("NAME=value,...": both services'
 * vars; default REQUEST_LOG=off), AB_BATCHING ("max_batch_size,max_queue_delay_ms": both
 * services' models with dynamic batching on; default off).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../load-client.ts";
import { checkOut } from "../checkout.ts";
import { casesNamed, median } from "./ab-common.ts";
import { binaryBody, jsonBody, modelBytes, prepareCases } from "../cases.ts";
import { adminCall, placement, root, startService, varsFrom, type Running } from "../workers.ts";

const PORTS = { base: 8861, current: 8862 } as const;
const TOKEN = "eia_ab_http_token";
const ROUNDS = Math.max(2, Number(process.env.AB_ROUNDS ?? 8));
const SECONDS = Math.max(1, Number(process.env.AB_SECONDS ?? 3));
const CONNECTIONS = Math.max(1, Number(process.env.AB_CONNECTIONS ?? 4));
const FORMATS = (process.env.AB_FORMATS ?? "binary").split(",");
for (const f of FORMATS) if (!["binary", "json"].includes(f)) throw new Error(`AB_FORMATS: binary or json, not ${f}`);
/** Dynamic batching for every model of both services, from AB_BATCHING. */
const BATCHING = process.env.AB_BATCHING ? (([size, delay]) => ({ max_batch_size: Number(size), max_queue_delay_ms: Number(delay ?? 2) }))(process.env.AB_BATCHING.split(",")) : undefined;
const [ref = "HEAD", ...rest] = process.argv.slice(2);
const cases = casesNamed(rest.length ? rest : ["iris", "image-linear"]);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** The ref's service, with its own wrangler.toml and the static assets it names (bench/.ab/http-base/, not committed). */
const prepare = () => checkOut(ref, join(root, "bench", ".ab", "http-base"), ["src", "package.json", "wrangler.toml", "public"]);

interface Variant { name: "base" | "current"; svc: Running; auth: Record<string, string> }

async function setUp(v: Variant["name"], svc: Running): Promise<Variant> {
  const admin = (method: string, path: string, body?: BodyInit, type?: string) => adminCall(svc, TOKEN, method, path, body, type);
  for (const c of cases) {
    await admin("PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
    if (BATCHING) await admin("PUT", `/models/${c.model}/config`, JSON.stringify({ dynamic_batching: { ...BATCHING, ...c.batching } }), "application/json");
  }
  await admin("PUT", "/tenants/ab", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission: "leased" }));
  return { name: v, svc, auth: { authorization: `Bearer ${(await admin("POST", "/tenants/ab/keys", "{}")).key as string}` } };
}

/** One load of a request kind on one variant: requests/s and workerd's CPU µs a request. */
async function load(v: Variant, path: string, body: Buffer, headers: Record<string, string>, seconds: number) {
  const before = v.svc.cpu().workerd;
  const r = await runLoad({ url: `${v.svc.url}${path}`, method: "POST", body, headers: { ...v.auth, ...headers }, connections: CONNECTIONS, seconds });
  const cpu = v.svc.cpu().workerd - before;
  if (r.errors || r.non2xx) throw new Error(`${v.name} ${path}: ${r.errors} errors, ${r.non2xx} answers not 2xx`);
  return { rps: r.average, cpuUs: (cpu * 1e6) / Math.max(1, r.total) };
}

const commit = prepare();
await prepareCases();
const vars = varsFrom(process.env.AB_VARS ?? "REQUEST_LOG=off");
const states = [mkdtempSync(join(tmpdir(), "edge-inference-ab-http-")), mkdtempSync(join(tmpdir(), "edge-inference-ab-http-"))];
const started: Running[] = [];
try {
  const [baseSvc, currentSvc] = await Promise.all([
    startService(states[0]!, PORTS.base, TOKEN, vars, false, join("bench", ".ab", "http-base", "wrangler.toml")),
    startService(states[1]!, PORTS.current, TOKEN, vars),
  ]);
  started.push(baseSvc, currentSvc);
  const variants = [await setUp("base", baseSvc), await setUp("current", currentSvc)] as const;
  const kinds = cases.flatMap((c) =>
    FORMATS.map((format): { label: string; path: string; body: Buffer; headers: Record<string, string> } => {
      const path = `/v2/models/${c.model}/versions/1/infer`;
      if (format === "json") return { label: `${c.model}: JSON`, path, body: jsonBody(c), headers: { "content-type": "application/json" } };
      const { body, headerLength } = binaryBody(c);
      return { label: `${c.model}: binary (header ${headerLength} bytes)`, path, body, headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(headerLength) } };
    }),
  );
  const rows = [];
  for (const k of kinds) {
    for (const v of variants) await load(v, k.path, k.body, k.headers, 1); // warm: sessions loaded, code optimised
    const got = { base: [] as { rps: number; cpuUs: number }[], current: [] as { rps: number; cpuUs: number }[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) got[v.name].push(await load(v, k.path, k.body, k.headers, SECONDS));
    }
    const cpu = got.base.map((b, i) => got.current[i]!.cpuUs / b.cpuUs);
    const rps = got.base.map((b, i) => got.current[i]!.rps / b.rps);
    rows.push({
      request: k.label,
      "workerd µs/request, medians: base, current": `${Math.round(median(got.base.map((x) => x.cpuUs)))}, ${Math.round(median(got.current.map((x) => x.cpuUs)))}`,
      "current/base CPU, median of rounds": round(median(cpu)),
      "current/base CPU, least rounds": round(Math.min(...got.current.map((x) => x.cpuUs)) / Math.min(...got.base.map((x) => x.cpuUs))),
      "current/base requests/s, median of rounds": round(median(rps)),
      "rounds current cheaper": `${cpu.filter((x) => x < 1).length} of ${ROUNDS}`,
    });
  }
  console.log(`\n## ${ref} (${commit.slice(0, 12)}) as base, the working tree as current, over HTTP: ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, ABBA, ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")}${BATCHING ? `, dynamic batching ${JSON.stringify(BATCHING)}` : ""}${placement ? `, workerd on core ${placement.workerd}` : ""}`);
  console.table(rows);
} finally {
  await Promise.all(started.map((s) => s.stop()));
  for (const s of states) rmSync(s, { recursive: true, force: true });
}
