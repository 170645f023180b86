/**
 * `npm run bench:loop [model ...]`: the service's own cost per request, timed inside workerd.
 * loop-worker.ts repeats one request K times in the isolate, calling the service's fetch (or
 * the bare Worker's handling of the same session, the baseline) and reading each answer, so no
 * socket, HTTP parser or load generator adds its noise. Rounds alternate the loops; the table gives
 * µs per request by the isolate's clock, in the fastest round and the median one, and by workerd's CPU time.
 *
 * What it is for: deciding whether a change to the request path pays, where the overhead section
 * of `npm run bench` (end to end, under load) cannot resolve a few microseconds.
 *
 * Environment: LOOP_ROUNDS (default 5), LOOP_N (requests per loop; default ~0.5 s of each model's),
 * LOOP_VARS ("NAME=value,...": the service's vars, e.g. REQUEST_LOG=off).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryBody, CASES, modelBytes, prepareCases, rawInputs, shapesHeader, type Case } from "../cases.ts";
import { adminCall, varsFrom, type Running } from "../workers.ts";
import { startLoopService, timeLoop } from "./loop-service.ts";

const PORT = 8841;
const TOKEN = "eia_loop_token";
const ROUNDS = Math.max(1, Number(process.env.LOOP_ROUNDS ?? 5));
const models = process.argv.slice(2).length ? process.argv.slice(2) : ["iris"];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const admin = (svc: Running, method: string, path: string, body?: BodyInit, type?: string) => adminCall(svc, TOKEN, method, path, body, type);

interface Loop { label: string; query: Record<string, string>; body?: Buffer }

const time = (svc: Running, loop: Loop, n: number) => timeLoop(svc, loop.label, loop.query, n, loop.body);

await prepareCases();
const state = mkdtempSync(join(tmpdir(), "edge-inference-loop-"));
// LOOP_VARS="REQUEST_LOG=off,..." overrides the service's vars.
const vars = varsFrom(process.env.LOOP_VARS ?? "");
const svc = await startLoopService(state, PORT, TOKEN, vars);
try {
  const cases = models.map((m) => {
    const c = CASES.find((x) => x.model === m);
    if (!c) throw new Error(`no case ${m}; cases: ${CASES.map((x) => x.model).join(", ")}`);
    return c;
  });
  for (const c of cases) await admin(svc, "PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
  await admin(svc, "PUT", "/tenants/loop", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission: "leased" }));
  const key = (await admin(svc, "POST", "/tenants/loop/keys", "{}")).key as string;
  const auth = { authorization: `Bearer ${key}` };

  const loopsOf = (c: Case): Loop[] => {
    const { body, headerLength } = binaryBody(c);
    return [
      { label: `${c.model}: bare`, query: { bare: c.model, headers: JSON.stringify({ "x-shapes": shapesHeader(c) }) }, body: rawInputs(c) },
      {
        label: `${c.model}: service, binary`,
        query: { path: `/v2/models/${c.model}/versions/1/infer`, headers: JSON.stringify({ ...auth, "inference-header-content-length": String(headerLength), "content-type": "application/octet-stream" }) },
        body,
      },
      { label: `${c.model}: GET ready (key, version resolved, session leased)`, query: { method: "GET", path: `/v2/models/${c.model}/versions/1/ready`, headers: JSON.stringify(auth) } },
    ];
  };
  const fixed: Loop[] = [
    { label: "floor: build the Request, read it, answer an empty Response", query: { floor: "1", headers: JSON.stringify({ "content-type": "application/octet-stream" }) }, body: rawInputs(cases[0]!) },
    { label: "GET /v2/health/live (no key)", query: { method: "GET", path: "/v2/health/live", headers: "{}" } },
    { label: "GET /v2 (key)", query: { method: "GET", path: "/v2", headers: JSON.stringify(auth) } },
  ];
  const loops = [...cases.flatMap(loopsOf), ...fixed];
  // Each loop about half a second (from one warm-up loop of 200).
  const sizes = new Map<Loop, number>();
  for (const l of loops) {
    const warm = await time(svc, l, 200);
    sizes.set(l, Number(process.env.LOOP_N) || Math.max(200, Math.round(500_000 / Math.max(1, warm.wall))));
  }
  const results = new Map<Loop, { wall: number[]; cpu: number[] }>(loops.map((l) => [l, { wall: [], cpu: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const l of loops) {
      const t = await time(svc, l, sizes.get(l)!);
      results.get(l)!.wall.push(t.wall);
      results.get(l)!.cpu.push(t.cpu);
    }
  }
  // The fastest round is the one least disturbed (noise on these machines only ever adds time).
  const rows = loops.map((l) => {
    const { wall, cpu } = results.get(l)!;
    const pair = l.label.endsWith(": service, binary") ? results.get(loops.find((x) => x.label === l.label.replace("service, binary", "bare"))!)! : undefined;
    return {
      loop: l.label,
      requests: sizes.get(l),
      "µs/request, fastest round": round(Math.min(...wall)),
      "median round": round(median(wall)),
      "workerd CPU µs/request, median": round(median(cpu)),
      "bare/service (fastest)": pair ? round(Math.min(...pair.wall) / Math.min(...wall), 3) : "",
      "service − bare, µs (fastest)": pair ? round(Math.min(...wall) - Math.min(...pair.wall)) : "",
    };
  });
  console.log(`\n## In-isolate loops, ${ROUNDS} rounds`);
  console.table(rows);
} finally {
  await svc.stop();
  rmSync(state, { recursive: true, force: true });
}
