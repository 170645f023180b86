/**
 * `npm run bench:ab [ref] [model ...]`: does a change to the request path pay? The service as it
 * is at a git ref (default HEAD) and as it is in the working tree, both in one Worker, one isolate,
 * on the same bindings, timed by loop-route.ts's in-isolate loop. Rounds alternate the two
 * (ABBA), so the machine's drift falls on both alike. The table gives the ratio of the fastest
 * rounds (the least disturbed: noise here only adds time), of the medians, the median of each
 * round's ratio, and in how many rounds the working tree was the faster.
 *
 * The ref's src/ and package.json are copied to bench/.ab/base/ (node_modules linked), so both
 * share one onnxruntime; each keeps its own caches and sessions. The Durable Object classes are the
 * working tree's: a ref whose calls to them differ cannot be compared this way.
 *
 * Environment: AB_FORMATS (the requests: binary, json, json-nested, tf; default binary),
 * AB_ROUNDS (default 16), AB_N (requests per loop; default ~1 s of each),
 * AB_VARS ("NAME=value,...": both services' vars; default REQUEST_LOG=off; ORT_HEAP_MAX_BYTES is
 * 256 MiB unless set, as the two services share one heap).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkOut } from "../checkout.ts";
import { casesNamed, median } from "./ab-common.ts";
import { binaryBody, jsonBody, modelBytes, nestedJsonBody, prepareCases, tfBody, type Case } from "../cases.ts";
import { adminCall, root, varsFrom, type Running } from "../workers.ts";
import { startLoopService, timeLoop } from "./loop-service.ts";

const PORT = 8851;
const TOKEN = "eia_ab_token";
const ROUNDS = Math.max(2, Number(process.env.AB_ROUNDS ?? 16));
/** Which requests: KServe binary, JSON with flat or nested data, TF Serving columns. */
const FORMATS = (process.env.AB_FORMATS ?? "binary").split(",");
for (const f of FORMATS) if (!["binary", "json", "json-nested", "tf"].includes(f)) throw new Error(`AB_FORMATS: binary, json, json-nested or tf, not ${f}`);
const [ref = "HEAD", ...rest] = process.argv.slice(2);
const cases = casesNamed(rest.length ? rest : ["iris", "silero-vad"]);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** The ref's service, beside the working tree's, in one Worker (bench/.ab/, not committed). */
function prepare(): string {
  const dir = join(root, "bench", ".ab");
  const commit = checkOut(ref, join(dir, "base"), ["src", "package.json"]);
  writeFileSync(
    join(dir, "ab-worker.ts"),
    `// Written by bench/experiments/ab.ts: the service at ${ref} (${commit.slice(0, 12)}) and the working tree's, one /__loop over both.
import current from "../../src/index";
import base from "./base/src/index";
import { loopRoute } from "../experiments/loop-route";

export { ModelStats, ModelWriter, TenantLimiter } from "../../src/index";

const loop = loopRoute({ base, current });

export default {
  fetch(request, env, ctx) {
    return new URL(request.url).pathname === "/__loop" ? loop(request, env, ctx) : current.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
`,
  );
  return commit;
}

interface Loop { label: string; variant: "base" | "current"; query: Record<string, string>; body?: Buffer }

const time = (svc: Running, loop: Loop, n: number) => timeLoop(svc, `${loop.label} (${loop.variant})`, { ...loop.query, variant: loop.variant }, n, loop.body);

const commit = prepare();
await prepareCases();
const state = mkdtempSync(join(tmpdir(), "edge-inference-ab-"));
// Both services' sessions share one onnxruntime heap, so its cap is raised for a model loaded twice (AB_VARS may set it).
const vars = { ORT_HEAP_MAX_BYTES: String(256 * 2 ** 20), ...varsFrom(process.env.AB_VARS ?? "REQUEST_LOG=off") };
const svc = await startLoopService(state, PORT, TOKEN, vars, false, { dir: ".ab", main: "ab-worker.ts" });
try {
  const admin = (method: string, path: string, body?: BodyInit, type?: string) => adminCall(svc, TOKEN, method, path, body, type);
  for (const c of cases) await admin("PUT", `/models/${c.model}/versions/1`, modelBytes(c), "application/octet-stream");
  await admin("PUT", "/tenants/ab", JSON.stringify({ requests_per_minute: 1_000_000, burst: 1_000_000, admission: "leased" }));
  const auth = { authorization: `Bearer ${(await admin("POST", "/tenants/ab/keys", "{}")).key as string}` };

  const pairs: [Loop, Loop][] = [];
  const both = (label: string, query: Record<string, string>, body?: Buffer) =>
    pairs.push([{ label, variant: "base", query, body }, { label, variant: "current", query, body }]);
  for (const c of cases as Case[]) {
    const infer = `/v2/models/${c.model}/versions/1/infer`;
    const json = JSON.stringify({ ...auth, "content-type": "application/json" });
    for (const format of FORMATS) {
      if (format === "binary") {
        const { body, headerLength } = binaryBody(c);
        both(`${c.model}: binary inference`, { path: infer, headers: JSON.stringify({ ...auth, "inference-header-content-length": String(headerLength), "content-type": "application/octet-stream" }) }, body);
      } else if (format === "json") both(`${c.model}: JSON inference`, { path: infer, headers: json }, jsonBody(c));
      else if (format === "json-nested") both(`${c.model}: JSON inference, nested data`, { path: infer, headers: json }, nestedJsonBody(c));
      else both(`${c.model}: TF Serving predict, nested columns`, { path: `/v1/models/${c.model}/versions/1:predict`, headers: json }, tfBody(c));
    }
  }
  both("GET /v2 (key)", { method: "GET", path: "/v2", headers: JSON.stringify(auth) });

  // Warm both (sessions loaded, code optimised), and size each loop to about 1 s.
  const sizes = new Map<string, number>();
  for (const [a, b] of pairs) {
    await time(svc, a, 200);
    await time(svc, b, 200);
    const warm = await time(svc, a, 200);
    sizes.set(a.label, Number(process.env.AB_N) || Math.max(200, Math.round(1_000_000 / Math.max(1, warm.wall))));
  }
  const rows = [];
  const results = pairs.map(() => ({ base: [] as { wall: number; cpu: number }[], current: [] as { wall: number; cpu: number }[] }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [a, b]] of pairs.entries()) {
      // ABBA: each goes first in half the rounds.
      for (const l of r % 2 === 0 ? [a, b] : [b, a]) results[i]![l.variant].push(await time(svc, l, sizes.get(l.label)!));
    }
  }
  for (const [i, [a]] of pairs.entries()) {
    const { base, current } = results[i]!;
    const ratios = base.map((x, k) => current[k]!.wall / x.wall);
    const cpuRatios = base.map((x, k) => current[k]!.cpu / x.cpu);
    rows.push({
      loop: a.label,
      "requests per loop": sizes.get(a.label),
      "µs/request fastest: base, current": `${round(Math.min(...base.map((x) => x.wall)))}, ${round(Math.min(...current.map((x) => x.wall)))}`,
      "median: base, current": `${round(median(base.map((x) => x.wall)))}, ${round(median(current.map((x) => x.wall)))}`,
      // The fastest round is the least disturbed (noise on these machines only ever adds time).
      "current/base, fastest": round(Math.min(...current.map((x) => x.wall)) / Math.min(...base.map((x) => x.wall)), 3),
      "current/base, medians": round(median(current.map((x) => x.wall)) / median(base.map((x) => x.wall)), 3),
      "median of rounds' ratios": round(median(ratios), 3),
      "current/base, workerd CPU": round(median(cpuRatios), 3),
      "rounds current faster": `${ratios.filter((x) => x < 1).length} of ${ROUNDS}`,
    });
  }
  console.log(`\n## ${ref} (${commit.slice(0, 12)}) as base, the working tree as current: ${ROUNDS} rounds, ABBA, ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  console.table(rows);
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", `ab-${new Date().toISOString().replace(/[:.]/g, "-")}.json`), JSON.stringify({ ref, commit, rounds: ROUNDS, vars, rows, results }, null, 1));
} finally {
  await svc.stop();
  rmSync(state, { recursive: true, force: true });
}
