import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { readFile } from "node:fs/promises";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { candidateSources, modelSources } from "./scripts/model-sources.ts";
import { builtSources } from "./test/support/built-models.ts";
import { optimisedFile } from "./test/support/optimised-models.ts";
import { referenceRun, type JsonTensor } from "./test/support/reference-runtime.ts";
import { conformanceProblems, validateDocument } from "./test/support/openapi-check.ts";

const repository = modelSources().map((s) => s.key);
const sources = new Map([...modelSources(), ...candidateSources(), ...builtSources()].map((s) => [s.key, s.file]));

/**
 * FIXTURES: a service binding that runs in Node. Tests in workerd read the demo repository's files
 * through it (to seed the local R2 bucket; candidates/, built/ and optimised/ files are served but not seeded), ask it for reference outputs from onnxruntime-node,
 * and have it check the OpenAPI document and responses against it.
 */
/** Alert webhooks the Worker sent (to http://webhook.test/...), for the tests to read. */
const webhooks: { path: string; body: unknown }[] = [];

/**
 * The Worker's outbound fetches, in tests: http://webhook.test/ok/... answers 200 and records the
 * alert, http://webhook.test/fail/... answers 500 (and records it too); anything else is refused.
 */
async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname !== "webhook.test") return new Response("no network in tests", { status: 502 });
  webhooks.push({ path: url.pathname, body: await request.json() });
  return new Response(null, { status: url.pathname.startsWith("/fail") ? 500 : 200 });
}

async function fixtures(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/webhooks") return Response.json(webhooks);
  // The Worker's OpenAPI document, checked in Node: valid OpenAPI, and responses against it.
  if (url.pathname === "/openapi/validate") return Response.json(await validateDocument(await request.json()));
  if (url.pathname === "/openapi/conforms") {
    const { document, method, path, status, contentType, body } = (await request.json()) as Parameters<typeof conformanceProblems> extends [infer D, ...unknown[]] ? { document: D; method: string; path: string; status: number; contentType: string; body: unknown } : never;
    return Response.json({ problems: conformanceProblems(document, method, path, status, contentType, body) });
  }
  const [, kind, ...rest] = url.pathname.split("/");
  const key = decodeURIComponent(rest.join("/"));
  if (kind === "objects" && key === "") return Response.json(repository);
  // optimised/<key>: the fixture as onnxruntime-node optimises it ahead of publishing.
  const optimised = key.startsWith("optimised/") ? sources.get(key.slice("optimised/".length)) : undefined;
  const file = optimised ? await optimisedFile(key, optimised) : sources.get(key);
  if (!file) return new Response(`no fixture ${key}`, { status: 404 });
  if (kind === "objects") return new Response(await readFile(file));
  if (kind === "reference") {
    const body = (await request.json()) as { inputs: JsonTensor[]; outputs?: string[] };
    try {
      return Response.json({ outputs: await referenceRun(file, body.inputs, body.outputs) });
    } catch (e) {
      return Response.json({ error: String(e) }, { status: 400 });
    }
  }
  return new Response("not found", { status: 404 });
}

/**
 * The files that need onnxruntime in a known state: not yet started, its heap not yet grown. That
 * state is the isolate's, not its core's. They share one isolate (each isolate takes in
 * onnxruntime's .wasm afresh), one after another in this order: each leaves what the next needs
 * untouched (the heap grown last by heap-cap).
 */
const FRESH = ["test/runtime-start.test.ts", "test/heap-growth.test.ts", "test/heap-cap.test.ts"];

/** Vitest's order of files, except that the FRESH files keep FRESH's order among themselves. */
class FreshInOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => FRESH.findIndex((name) => f.moduleId.endsWith(name));
    const fresh = sorted.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b));
    return sorted.map((f) => (rank(f) >= 0 ? fresh.shift()! : f));
  }
}

/** The Workers integration, as both workerd projects run it. */
const workerd = () =>
  cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      // Tests look at R2 afresh on every request; the staleness bound itself is unit-tested.
      bindings: {
        MODEL_REFRESH_SECONDS: "0",
        MAX_REQUEST_BYTES: String(4 * 1024 * 1024),
        // Above the largest JSON a test sends on purpose (a 1×3×224×224 image, 2.9 MB).
        MAX_JSON_REQUEST_BYTES: String(3.5 * 1024 * 1024),
        MAX_MODEL_BYTES: String(8 * 1024 * 1024),
        STATS_FLUSH_MS: "0",
        // Room for two cached answers of 150 Iris rows: the response cache's bound is seen to evict.
        RESPONSE_CACHE_MAX_BYTES: "8192",
        // A stalled or dripping body ends (408) after half a second of silence, or below the
        // minimum rate after half a second: the tests of slow bodies drive these, not the clock.
        REQUEST_BODY_TIMEOUT_MS: "500",
        ADMIN_TOKEN: "test-admin-token",
        // Pages on these origins may call the API (test/cors.test.ts); any other origin may not.
        CORS_ALLOWED_ORIGINS: "https://app.example, https://second.example",
      },
      serviceBindings: { FIXTURES: fixtures },
      outboundService: outbound,
      // The payload log's consumer runs a second after a message, not five.
      queueConsumers: { "edge-inference-payloads": { maxBatchTimeout: 1 } },
    },
  });

export default defineConfig({
  test: {
    // The Worker logs a JSON line per request: show logs only for tests that fail. Groups run one
    // after another: unit and bench (groupOrder 0), then each workerd project one file at a time
    // (vitest needs a group of its own for a project with fileParallelism off), then cli, whose
    // servers boot in the background from the start.
    silent: "passed-only",
    sequence: { sequencer: FreshInOrder },
    projects: [
      {
        // Everything that runs inside workerd: the Worker, its bindings, the real models. The files
        // share one Worker and its storage (each isolate would otherwise take in onnxruntime's 14 MB
        // .wasm afresh, 5–10 s a file through the module fallback's JSON): what a file writes has
        // names of its own, and whatever it reads of the demo repository it leaves as it was.
        plugins: [workerd()],
        test: {
          name: "workers",
          sequence: { groupOrder: 1 },
          include: ["test/**/*.test.ts"],
          exclude: ["test/cli/**", "test/bench/**", "test/unit/**", ...FRESH],
          isolate: false,
          // One file at a time: they share the isolate's state (the memory budget, caches) too.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The files that need an isolate and storage no other project touches (FRESH): one
        // isolate for all of them, one file at a time, in FRESH's order.
        plugins: [workerd()],
        test: {
          name: "workers-fresh",
          sequence: { groupOrder: 2 },
          include: FRESH,
          isolate: false,
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Pure logic (codecs, token bucket, histograms, the batcher's algorithm, routing) runs in Node.
        // Unit tests that need workerd's own APIs (its streams' readAtLeast) are in test/workerd-unit/.
        // Workers reused across files (isolate: false): a fresh one per file cost more than the tests.
        // In cli's group (groupOrder 3, two workers), beside its files.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", isolate: false, sequence: { groupOrder: 3 }, maxWorkers: 2 },
      },
      {
        // The benchmarks' own logic that needs no Worker (how a run is judged against the targets), in Node.
        test: { name: "bench", include: ["test/bench/**/*.test.ts"], environment: "node", isolate: false, sequence: { groupOrder: 3 }, maxWorkers: 2 },
      },
      {
        // The operators' command line and the README's JavaScript client, in Node, against a real
        // `wrangler dev` per file, which the globalSetup boots in the background from the run's start.
        // Two files at a time, last (groupOrder 3): they wait on servers, browsers and child processes.
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/cli/global-setup.ts"],
          sequence: { groupOrder: 3 },
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
