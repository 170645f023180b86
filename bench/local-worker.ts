/**
 * One Worker for the benchmarks, run the way it is deployed, minus the network: the bundle
 * `wrangler deploy` would upload (built with `--dry-run --outdir`), in workerd through Miniflare,
 * with the bindings of its wrangler.toml kept locally (R2, KV, Durable Objects, queues) and the
 * Worker's own socket open to the load.
 *
 * Why not `wrangler dev`: it puts a proxy Worker in front (every request queued in a Durable Object
 * of a second workerd and fetched again over HTTP, body and all), Miniflare's entry Worker behind
 * that, and wrangler's dev middleware around the Worker; a deployed Worker has none of them, and
 * they cost more than the service itself (a bare Worker's cheapest route: ~500 requests/s through
 * `wrangler dev`'s URL, several times that on its own socket).
 *
 * Started as a child process by bench/workers.ts; prints one JSON line `{"url"}` (the Worker's
 * own socket) on stdout once the Worker is ready. The Worker's log lines go to stdout too, as workerd writes them.
 *
 * Usage: node bench/local-worker.ts <wrangler.toml> <port> <inspector port|-> <persist dir|-> [NAME=value ...]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const [config, port, inspectorPort, persist, ...vars] = process.argv.slice(2);
if (!config || !port || !inspectorPort || !persist) throw new Error("usage: local-worker.ts <wrangler.toml> <port> <inspector port|-> <persist dir|-> [NAME=value ...]");

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const outdir = mkdtempSync(join(tmpdir(), "edge-inference-bundle-"));
// The deployable bundle: what `wrangler deploy` would upload, ORT's .wasm beside it.
execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir, "-c", config], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});

const { workerOptions, main } = unstable_getMiniflareWorkerOptions(config);
// Miniflare takes the bundle's modules listed, not found by rules.
const { modulesRules: _rules, ...options } = workerOptions as typeof workerOptions & { modulesRules?: unknown };
const script = basename(main!).replace(/\.ts$/, ".js");
const modules = [
  { type: "ESModule", path: join(outdir, script) },
  ...readdirSync(outdir).filter((f) => f.endsWith(".wasm")).map((f) => ({ type: "CompiledWasm", path: join(outdir, f) })),
];
const name = "worker";
const overrides = Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: Number(port),
    ...(inspectorPort === "-" ? {} : { inspectorPort: Number(inspectorPort) }),
    logRequests: false,
    ...(persist === "-" ? {} : { resourcePersistencePath: join(persist, "v3") }),
    workers: [
      {
        ...options,
        name,
        rootPath: outdir,
        modulesRoot: outdir,
        modules,
        bindings: { ...(options.bindings as Record<string, unknown>), ...overrides },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  } as Parameters<typeof convertV4MiniflareOptions>[0]),
);
await mf.ready;
process.stdout.write(`${JSON.stringify({ url: (await mf.unsafeGetDirectURL(name)).origin })}\n`);

const stop = () => {
  void mf.dispose().finally(() => {
    rmSync(outdir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
