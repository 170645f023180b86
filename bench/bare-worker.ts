/**
 * The bare Worker the benchmarks compare the service with: it only runs the same onnxruntime-web
 * session, through the same loader, with none of the service around it (no auth, rate limit,
 * routing, repository or codec). Model bytes arrive by PUT from the benchmark (never bundled).
 *
 *   PUT  /load/{name}?tuning={json}   body: the ONNX (or ORT format) file  → the signature, ORT's heap bytes
 *                                     and the session's creation time (create_ms, by the isolate's clock)
 *   POST /run/{name}?n=K              body: the inputs' raw bytes, in input order; X-Shapes: [[...], ...]
 *                                     → the outputs' raw bytes, after running K times (default 1)
 *   GET  /heap                        → ORT's heap bytes
 *   POST /sink                        → reads the body, answers its length (the cost of moving bytes)
 *   POST /codec/{name}?n=K            body: a KServe request, JSON or binary (Inference-Header-Content-Length)
 *                                     → decodes it with the service's codec, runs, encodes the answer,
 *                                       K times (the Worker's own work for a request, without transport)
 *
 * With `?log=1`, a request also writes one JSON log line of the service's size, so the service's
 * own overhead can be compared like for like.
 */
import { loadSession, setWasmHeapMax, wasmHeapBytes, type LoadedSession, type SessionTuning } from "../src/serving/loader";
import { bareRun } from "./bare-run";
import { frameBody, HEADER_LENGTH, splitBody } from "../src/tensor/kserve-binary";
import { decodeInferRequest, encodeInferResponse } from "../src/tensor/kserve-json";

// onnxruntime as it comes, with no heap cap: the kernel benchmark loads models the service would refuse.
setWasmHeapMax(4 * 1024 ** 3);

const sessions = new Map<string, LoadedSession>();

async function load(name: string, request: Request, url: URL): Promise<Response> {
  const tuning = JSON.parse(url.searchParams.get("tuning") ?? "{}") as SessionTuning;
  await sessions.get(name)?.release();
  sessions.delete(name);
  const bytes = new Uint8Array(await request.arrayBuffer());
  const started = performance.now();
  const session = await loadSession(bytes, tuning);
  const createMs = performance.now() - started;
  sessions.set(name, session);
  return Response.json({ inputs: session.inputs, outputs: session.outputs, wasm_heap_bytes: wasmHeapBytes(), create_ms: createMs });
}

async function run(name: string, request: Request, url: URL): Promise<Response> {
  const session = sessions.get(name);
  if (!session) return new Response(`no session ${name}`, { status: 404 });
  const shapes = JSON.parse(request.headers.get("x-shapes") ?? "[]") as number[][];
  const out = await bareRun(session, shapes, new Uint8Array(await request.arrayBuffer()), Number(url.searchParams.get("n") ?? 1));
  return new Response(out, { headers: { "content-type": "application/octet-stream" } });
}

function logLine(request: Request, url: URL): void {
  console.log(JSON.stringify({
    level: "info", event: "request", request_id: crypto.randomUUID(), method: request.method, path: url.pathname, status: 200,
    tenant: null, model: null, version: null, ms: { auth: 0, ratelimit: 0, load: 0, inference: 0, encode: 0, total: 0 },
    bytes_in: Number(request.headers.get("content-length") ?? 0), bytes_out: null,
  }));
}

async function codec(name: string, request: Request, url: URL): Promise<Response> {
  const session = sessions.get(name);
  if (!session) return new Response(`no session ${name}`, { status: 404 });
  const headerLength = request.headers.get(HEADER_LENGTH);
  const body = new Uint8Array(await request.arrayBuffer());
  const n = Number(url.searchParams.get("n") ?? 1);
  let out: Uint8Array | string = "";
  for (let i = 0; i < n; i++) {
    let decoded;
    if (headerLength === null) decoded = decodeInferRequest(JSON.parse(new TextDecoder().decode(body)));
    else {
      const split = splitBody(body, headerLength);
      if (split.kind !== "json") return new Response("raw bodies are not measured here", { status: 400 });
      decoded = decodeInferRequest(split.json, split.binary);
    }
    const outputs = await session.run(decoded.inputs, session.outputs.map((o) => o.name));
    const { json, binaries } = encodeInferResponse({ modelName: name, modelVersion: "1" }, outputs, decoded.binaryOutput);
    out = binaries.length === 0 ? JSON.stringify(json) : frameBody(json, binaries).body;
  }
  return new Response(out);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [, action, name = ""] = url.pathname.split("/");
    if (url.searchParams.has("log")) logLine(request, url);
    if (action === "load" && request.method === "PUT") return load(name, request, url);
    if (action === "run" && request.method === "POST") return run(name, request, url);
    if (action === "heap") return Response.json({ wasm_heap_bytes: wasmHeapBytes() });
    if (action === "codec" && request.method === "POST") return codec(name, request, url);
    if (action === "sink" && request.method === "POST") return Response.json({ bytes: (await request.arrayBuffer()).byteLength });
    return new Response("not found", { status: 404 });
  },
};
