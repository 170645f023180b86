/**
 * @module http/body-intake: reading a request body once its caller is known and admitted, so that
 * neither a large nor a slow body can hog the isolate. The body is read as it arrives, each piece
 * holding its estimated peak of the isolate's memory for bodies (http/memory-budget) before the
 * next is read; within its limit (413, or 411 for one sent without Content-Length); and within
 * REQUEST_BODY_TIMEOUT_MS of silence and, after that long, REQUEST_BODY_MIN_BYTES_PER_SECOND on
 * average (408). A compressed body holds its compressed bytes as they arrive, then what it
 * decompresses to as it comes out. A client that goes away mid-body is a 499, not a server error.
 * Handlers read the bytes through `received` (http/body); the memory is held until the response is made.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";
import { settings } from "../settings";
import type { Reservation } from "../byte-budget";
import { decompress } from "./content-coding";
import { GrowingBytes } from "./growing-bytes";
import { wasmHeapBytes } from "../serving/loader";
import { budgetSettings, capacityNow, estimatedPeak, tenantBytesNow } from "./memory-budget";

type BodyInfo = NonNullable<AppEnv["Variables"]["body"]>;

interface Limits {
  timeoutMs: number;
  minRate: number;
  waitMs: number;
  /** What bodies may hold now, for the 503's message. */
  capacity: () => number;
  /** Aborted once the response is made. */
  stop: AbortSignal;
}

const tooSlow = (message: string) => new ServingError("request_timeout", `${message}; send the body at once when it is ready (binary tensors are the compact form)`);
const clientClosed = () => new ServingError("client_closed", "the client closed the connection before its request body arrived");

const memoryInUse = (capacity: () => number) =>
  new ServingError(
    "unavailable",
    `this instance's memory for request bodies (REQUEST_MEMORY_BUDGET_BYTES within ISOLATE_MEMORY_BYTES less onnxruntime's heap, ${capacity()} bytes now, or this tenant's share of it, REQUEST_MEMORY_TENANT_SHARE) is in use by other requests; retry shortly, or send large tensors as binary data (about a third of JSON's memory)`,
    { headers: { "Retry-After": "1" } },
  );

/** The body's bytes as they arrive, each piece reserved in `held` (at `perByte` of its bytes) before the next is read. */
async function receive(stream: ReadableStream<Uint8Array>, body: BodyInfo, held: Reservation, limits: Limits, perByte: (n: number) => number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  // Once the response is made, a body still arriving is not read on.
  limits.stop.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
  // Each piece is copied into one buffer as it comes and let go: the body is never held twice.
  const bytes = new GrowingBytes(body.limit);
  let received = 0;
  const started = Date.now();
  // Time spent waiting for memory is the isolate's, not the client's: not counted against its rate.
  let waited = 0;
  const fail = async (error: Error): Promise<never> => {
    await reader.cancel().catch(() => undefined);
    throw error;
  };
  for (;;) {
    let quiet!: (value: "silence") => void;
    const silence = new Promise<"silence">((resolve) => (quiet = resolve));
    const timer = setTimeout(() => quiet("silence"), limits.timeoutMs);
    let step: ReadableStreamReadResult<Uint8Array> | "silence";
    try {
      step = await Promise.race([reader.read(), silence]);
    } catch {
      throw clientClosed();
    } finally {
      clearTimeout(timer);
    }
    if (step === "silence") return fail(tooSlow(`the request body sent nothing for ${limits.timeoutMs} ms (REQUEST_BODY_TIMEOUT_MS) after ${received} bytes`));
    if (step.done) break;
    received += step.value.byteLength;
    if (received > body.limit) return fail(body.overLimit());
    const active = Date.now() - started - waited;
    if (active > limits.timeoutMs && (received * 1000) / active < limits.minRate) {
      return fail(tooSlow(`the request body arrived at ${Math.round((received * 1000) / active)} bytes a second, slower than REQUEST_BODY_MIN_BYTES_PER_SECOND (${limits.minRate})`));
    }
    const asked = Date.now();
    if (!(await held.grow(perByte(step.value.byteLength), limits.waitMs))) return fail(memoryInUse(limits.capacity));
    waited += Date.now() - asked;
    bytes.append(step.value);
  }
  // Ended short of its Content-Length: the connection went away mid-body.
  if (body.declared !== null && received < body.declared) throw clientClosed();
  return bytes.bytes();
}

/** Reads the whole body (decompressed, if it came compressed), holding its memory in `held`. */
async function readBody(stream: ReadableStream<Uint8Array> | null, body: BodyInfo, held: Reservation, limits: Limits): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  if (!body.coding) {
    const bytes = await receive(stream, body, held, limits, (n) => estimatedPeak(body.kind, n));
    held.shrink(estimatedPeak(body.kind, bytes.byteLength));
    return bytes;
  }
  const { name, limit, overLimit } = body.coding;
  const compressed = await receive(stream, body, held, limits, (n) => n);
  let counted = 0;
  const plain = await decompress(compressed, name, limit, overLimit, async (out) => {
    const more = estimatedPeak(body.kind, out) - counted;
    if (!(await held.grow(more, limits.waitMs))) throw memoryInUse(limits.capacity);
    counted += more;
  });
  held.shrink(estimatedPeak(body.kind, plain.byteLength));
  return new Uint8Array(plain);
}

/**
 * Sets `received` to read the request's body (as the body limit described it in `body`; nothing
 * for a request without one) when the handler asks for it, then runs the handler. The memory the
 * body holds is given back, and a body still arriving is no longer read, once the response is
 * made. Registered after authentication and the rate limit, so only admitted callers' bodies are read.
 */
export function bodyIntake(): MiddlewareHandler<AppEnv> {
  return async function bodyIntakeHandler(c, next) {
    const body = c.get("body");
    if (!body) return next();
    const memory = budgetSettings(c.env);
    const { waitMs } = memory;
    // Looked at on every grow: the heap may have grown while this body arrived.
    const capacity = () => capacityNow(memory, wasmHeapBytes());
    const tenantBytes = () => tenantBytesNow(memory, wasmHeapBytes());
    const stop = new AbortController();
    const { REQUEST_BODY_TIMEOUT_MS, REQUEST_BODY_MIN_BYTES_PER_SECOND } = settings(c.env);
    const limits = {
      timeoutMs: REQUEST_BODY_TIMEOUT_MS,
      minRate: REQUEST_BODY_MIN_BYTES_PER_SECOND,
      waitMs,
      capacity,
      stop: stop.signal,
    };
    // A tenant's bodies are bound by its share; the operator's (admin API: model uploads) by the budget alone.
    const caller = c.get("caller");
    const held = c.var.core.bodies.open(capacity, caller ? { tenant: caller.tenant, bytes: tenantBytes } : undefined);
    // Read when the handler first asks, so that its time counts as on its way to the model (a
    // dynamic batch waits for requests still reading their bodies: serving/inbound).
    let reading: Promise<Uint8Array> | undefined;
    c.set("received", () => (reading ??= readBody(c.req.raw.body, body, held, limits)));
    // workerd ends a request whose client left without running its finally blocks: the request's
    // signal is then the only word that its bytes are free.
    const gone = () => {
      stop.abort();
      held.release();
    };
    c.req.raw.signal?.addEventListener("abort", gone, { once: true });
    try {
      await next();
    } finally {
      c.req.raw.signal?.removeEventListener("abort", gone);
      gone();
    }
  };
}
