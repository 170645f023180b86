/**
 * @edge-inference/client in Node against a real `wrangler dev` with the demo models: every datatype
 * through `infer` as binary and as JSON, Silero VAD's state carried across calls, retries on a
 * real 429, cancellation, the typed error for a body over the limit, TF Serving's predict, and a
 * config write that loses a race and is retried; and the same package in a headless Chromium page
 * (Debian's, /usr/bin/chromium). Expected outputs come from onnxruntime-node.
 */
import {
  AdminClient,
  PreconditionFailedError,
  InferenceClient,
  InferInput,
  InferRequestedOutput,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  type RetryEvent,
} from "@edge-inference/client";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { asText, BINARY_VALUES, dtypeInput, JSON_VALUES, referenceData } from "../support/dtype-values.ts";
import { referenceRun, type JsonTensor } from "../support/reference-runtime.ts";
import { CLIENT_MAX_REQUEST_BYTES as MAX_REQUEST_BYTES, devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const FILES = {
  dtypes: join(root, "models/dtypes/1/model.onnx"),
  vad: join(root, "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx"),
  iris: join(root, "models/iris/1/model.onnx"),
};

let dev: WranglerDev;
let admin: AdminClient;
let key: string;

beforeAll(async () => {
  dev = await devFor("client");
  admin = new AdminClient({ url: dev.url, token: ADMIN_TOKEN });
  await Promise.all([
    admin.publishVersion("dtypes", 1, readFileSync(FILES.dtypes)),
    admin.publishVersion("silero-vad", 1, readFileSync(FILES.vad)),
    admin.publishVersion("iris", 1, readFileSync(FILES.iris)),
    admin.putTenant("client", { requests_per_minute: 100_000 }),
  ]);
  key = (await admin.createKey("client", { name: "client tests" })).key;
}, 90_000);

const client = (options: Partial<ConstructorParameters<typeof InferenceClient>[0]> = {}) => new InferenceClient({ url: dev.url, apiKey: key, ...options });

/** One input per datatype of the `dtypes` model, with `values`. */
function dtypeInputs(values: Record<string, unknown[]>, binary: boolean): InferInput[] {
  return Object.entries(values).map(([datatype, data]) => new InferInput(dtypeInput(datatype), [data.length], datatype).setData(data as number[], { binary }));
}

async function dtypeReference(values: Record<string, unknown[]>): Promise<JsonTensor[]> {
  const inputs = Object.entries(values).map(([datatype, data]) => ({ name: dtypeInput(datatype), datatype, shape: [data.length], data: referenceData(data) }));
  return referenceRun(FILES.dtypes, inputs);
}

describe("infer", () => {
  for (const binary of [true, false]) {
    const values = binary ? BINARY_VALUES : JSON_VALUES;
    it(`round-trips every datatype as ${binary ? "binary" : "JSON"}, as onnxruntime-node computes it`, async () => {
      const result = await client().infer("dtypes", dtypeInputs(values, binary), { binaryOutput: binary });
      const expected = await dtypeReference(values);
      expect(result.outputNames.sort()).toEqual(expected.map((e) => e.name).sort());
      for (const e of expected) {
        expect(result.datatype(e.name), e.name).toBe(e.datatype);
        expect(result.shape(e.name), e.name).toEqual(e.shape);
        expect(asText(result.asArray(e.name)), e.name).toEqual(asText(e.data));
        // Binary outputs came as binary, JSON ones inline.
        expect(result.output(e.name).data === undefined, e.name).toBe(binary);
      }
      expect(result.asTypedArray("y_int64")).toBeInstanceOf(BigInt64Array);
      expect(result.asTypedArray("y_fp16")).toBeInstanceOf(Uint16Array);
      expect(result.modelVersion).toBe("1");
      expect(result.rateLimit?.limit).toBeGreaterThan(0);
      expect(result.serverTiming.inference).toBeGreaterThanOrEqual(0);
    });
  }

  it("reads 64-bit integers beyond 2^53 exactly from JSON outputs (binary inputs, JSON outputs)", async () => {
    const values = { INT64: BINARY_VALUES.INT64!, UINT64: BINARY_VALUES.UINT64! };
    const inputs = dtypeInputs(BINARY_VALUES, true);
    const outputs = ["y_int64", "y_uint64"].map((name) => new InferRequestedOutput(name, { binary: false }));
    const result = await client().infer("dtypes", inputs, { outputs });
    const expected = await dtypeReference(BINARY_VALUES);
    for (const name of ["y_int64", "y_uint64"]) {
      expect(result.output(name).data, name).toBeDefined();
      expect(asText(result.asArray(name)), name).toEqual(asText(expected.find((e) => e.name === name)!.data));
    }
    expect(asText(result.asArray("y_int64"))).toEqual(asText(values.INT64));
  });

  it("views an aligned binary output where it lies in the body, without a copy", async () => {
    const outputs = ["y_fp64", "y_int64", "y_fp32"].map((name) => new InferRequestedOutput(name));
    const result = await client().infer("dtypes", dtypeInputs(BINARY_VALUES, true), { outputs });
    const [fp64, int64, fp32] = outputs.map((o) => result.asTypedArray(o.name) as Float64Array);
    // The header is padded to 8 bytes and each output before the next is whole 8-byte elements.
    expect(int64!.buffer).toBe(fp64!.buffer);
    expect(fp32!.buffer).toBe(fp64!.buffer);
    expect(result.outputNames).toEqual(["y_fp64", "y_int64", "y_fp32"]);
  });

  it("sends a gzipped body when asked, with the same answer", async () => {
    const plain = await client().infer("dtypes", dtypeInputs(BINARY_VALUES, true));
    const gzipped = await client({ requestCompression: { minBytes: 0 } }).infer("dtypes", dtypeInputs(BINARY_VALUES, true));
    for (const name of plain.outputNames) expect(asText(gzipped.asArray(name))).toEqual(asText(plain.asArray(name)));
  });

  it("streams Silero VAD's state across calls, as onnxruntime-node does", async () => {
    const vad = client();
    // Three 32 ms chunks of a 440 Hz tone rising out of silence, at 16 kHz.
    const chunks = [0, 0.3, 1].map((gain, c) => Float32Array.from({ length: 512 }, (_, i) => gain * 0.5 * Math.sin((2 * Math.PI * 440 * (c * 512 + i)) / 16000)));
    let state: Float32Array = new Float32Array(2 * 128);
    let referenceState: unknown[] = Array.from(state);
    for (const chunk of chunks) {
      const result = await vad.infer("silero-vad", [
        new InferInput("input", [1, 512], "FP32").setData(chunk),
        new InferInput("state", [2, 1, 128], "FP32").setData(state),
        new InferInput("sr", [], "INT64").setData([16000n]),
      ]);
      const [output, stateN] = await referenceRun(FILES.vad, [
        { name: "input", datatype: "FP32", shape: [1, 512], data: Array.from(chunk) },
        { name: "state", datatype: "FP32", shape: [2, 1, 128], data: referenceState },
        { name: "sr", datatype: "INT64", shape: [], data: [16000] },
      ]);
      const probability = result.asTypedArray("output") as Float32Array;
      expect(Math.abs(probability[0]! - (output!.data[0] as number))).toBeLessThan(1e-4);
      // The state the service returned goes straight back in: a view of the response, not a copy.
      state = result.asTypedArray("stateN") as Float32Array;
      expect(result.shape("stateN")).toEqual([2, 1, 128]);
      Array.from(state).forEach((v, i) => expect(Math.abs(v - (stateN!.data[i] as number))).toBeLessThan(1e-4));
      referenceState = stateN!.data;
    }
  });

  it("answers TF Serving's predict, row format, as onnxruntime-node computes it", async () => {
    const rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
    const answer = await client().predict("iris", rows, { version: 1 });
    const [probabilities] = await referenceRun(FILES.iris, [{ name: "features", datatype: "FP32", shape: [2, 4], data: rows.flat() }]);
    const got = (answer.predictions as { probabilities: number[] }[]).flatMap((p) => p.probabilities);
    got.forEach((v, i) => expect(Math.abs(v - (probabilities!.data[i] as number))).toBeLessThan(1e-5));
  });
});

describe("health, metadata and statistics", () => {
  it("reads what the server says of itself and its models", async () => {
    const c = client();
    expect(await c.isServerLive()).toBe(true);
    expect(await c.isServerReady()).toBe(true);
    expect(await c.isModelReady("dtypes")).toBe(true);
    expect(await c.isModelReady("dtypes", 7)).toBe(false);
    expect((await c.serverMetadata()).extensions).toContain("binary_tensor_data");
    const metadata = await c.modelMetadata("dtypes", 1);
    expect(metadata.inputs.map((i) => i.datatype)).toContain("BYTES");
    expect((await c.modelStatistics("dtypes")).model_stats.length).toBeGreaterThan(0);
    await expect(c.modelMetadata("no-such-model")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("lists the repository (Triton's model repository extension)", async () => {
    const index = await client().repositoryIndex();
    expect(index.map((m) => m.name)).toEqual(expect.arrayContaining(["dtypes", "iris", "silero-vad"]));
    expect(index.every((m) => m.state === "READY")).toBe(true);
    expect((await client().repositoryIndex({ ready: true })).length).toBe(index.length);
  });
});

describe("errors and retries", () => {
  it("retries a real 429 after its Retry-After, and only on 429 and 503", async () => {
    await admin.putTenant("slow", { requests_per_minute: 120, burst: 1, admission: "exact" });
    const slowKey = (await admin.createKey("slow")).key;
    const input = () => [new InferInput("features", [1, 4], "FP32").setData([5.1, 3.5, 1.4, 0.2])];
    const outputs = [new InferRequestedOutput("label")];

    const once = new InferenceClient({ url: dev.url, apiKey: slowKey });
    await once.infer("iris", input(), { outputs });
    const refused = await once.infer("iris", input(), { outputs }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused).toMatchObject({ status: 429, retryAfter: expect.any(Number) });
    expect((refused as RateLimitError).requestId).toMatch(/./);

    const retries: RetryEvent[] = [];
    const patient = new InferenceClient({ url: dev.url, apiKey: slowKey, retries: 3, onRetry: (e) => retries.push(e) });
    const result = await patient.infer("iris", input(), { outputs });
    expect(result.asTypedArray("label")).toBeInstanceOf(BigInt64Array);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]!.error.status).toBe(429);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(retries[0]!.error.retryAfter! * 1000);

    // A retry's wait ends when the call's signal aborts (the bucket is empty: the call above just took its token).
    const controller = new AbortController();
    let waited = 0;
    const waiting = new InferenceClient({ url: dev.url, apiKey: slowKey, retries: 3, onRetry: () => (waited++, controller.abort()) });
    await expect(waiting.infer("iris", input(), { outputs, signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(waited).toBe(1);

    // A 400 is not retried (asked with a tenant whose limit is not in the way).
    retries.length = 0;
    const bad = await client({ retries: 3, onRetry: (e) => retries.push(e) }).infer("iris", [new InferInput("petals", [1], "INT32").setData([1])]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400 });
    expect(retries).toEqual([]);
  });

  it("cancels a call whose signal aborts", async () => {
    const controller = new AbortController();
    const call = client().infer("dtypes", dtypeInputs(BINARY_VALUES, true), { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    await expect(client().isServerLive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("gives up an attempt after timeoutMs", async () => {
    // A fetch that never answers (as a stalled connection), so that only the timeout can end the call.
    const stalled = client({ timeoutMs: 50, fetch: (_input, init) => new Promise((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason))) });
    await expect(stalled.isServerLive()).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("throws the typed error for a body over the server's limit", async () => {
    const big = new Float32Array(MAX_REQUEST_BYTES / 4 + 1024);
    const error = await client()
      .infer("dtypes", [new InferInput("x_fp32", [big.length], "FP32").setData(big)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ status: 413, message: expect.stringContaining(`larger than ${MAX_REQUEST_BYTES} bytes`) });
  });
});

describe("admin", () => {
  it("reads, edits and writes a config with If-Match, editing again when another write came between", async () => {
    let raced = false;
    let races = 0;
    const racing = new AdminClient({
      url: dev.url,
      token: ADMIN_TOKEN,
      // Just before this client's first write, another operator changes the config.
      fetch: async (input, init) => {
        if (init.method === "PUT" && input.endsWith("/config") && !raced) {
          raced = true;
          await admin.setLabels("iris", { [`other${++races}`]: 1 });
        }
        return fetch(input, init);
      },
    });
    await racing.setLabels("iris", { mine: 1 });
    expect(raced).toBe(true);
    expect((await admin.getConfig("iris")).config.labels).toEqual({ other1: 1, mine: 1 });
    // Without a second attempt, the lost race is the typed error.
    raced = false;
    await expect(racing.updateConfig("iris", (c) => void (c.description = "x"), { attempts: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
  });
});

describe("in a browser", () => {
  it("round-trips every datatype, binary and JSON, from a Chromium page", async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      // The page and the built package are served from the service's own origin (as a site that
      // hosts its client would be); every other request goes to the real wrangler dev.
      const dist = join(root, "packages/client/dist");
      await page.route(`${dev.url}/__client/**`, (route) => {
        const file = new URL(route.request().url()).pathname.replace("/__client/", "");
        if (file === "page.html") return route.fulfill({ contentType: "text/html", body: "<!doctype html><title>client</title>" });
        const source = file === "dtypes-page.js" ? join(root, "test/cli/browser", file) : join(dist, file);
        return route.fulfill({ contentType: "text/javascript", body: readFileSync(source) });
      });
      await page.goto(`${dev.url}/__client/page.html`);
      const text = (values: Record<string, unknown[]>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, asText(v)]));
      const args = { url: dev.url, key, cases: { binary: text(BINARY_VALUES), json: text(JSON_VALUES) } };
      // A string, so that vitest's transform leaves the page's dynamic import alone.
      const got = (await page.evaluate(`import("${dev.url}/__client/dtypes-page.js").then((m) => m.run(${JSON.stringify(args)}))`)) as Record<string, Record<string, string[]>>;
      for (const [mode, values] of [["binary", BINARY_VALUES], ["json", JSON_VALUES]] as const) {
        for (const e of await dtypeReference(values)) expect(got[mode]![e.name], `${mode} ${e.name}`).toEqual(asText(e.data));
      }
    } finally {
      await browser.close();
    }
  });
});
