/**
 * @module serving/loader: turns ONNX bytes into a ready onnxruntime-web session and releases it.
 * The only module that imports onnxruntime-web.
 *
 * workerd forbids compiling WebAssembly from bytes at run time, so ORT's wasm binary is imported
 * as a pre-compiled module and handed over when ORT instantiates it: ORT is told the binary is a
 * (sentinel) buffer, and `WebAssembly.instantiate` on that buffer is answered with the module.
 * This depends on ORT's loader, hence onnxruntime-web is pinned exactly in package.json.
 */
import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler collects .wasm modules by file path, not by package specifier.
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { fromOrtType, datatypeInfo, type Datatype } from "../tensor/datatype";
import type { Tensor } from "../tensor/tensor";

// Module-level on purpose: onnxruntime and the WebAssembly hook below exist once per isolate, not per core.
const SENTINEL = new ArrayBuffer(0);
let configured = false;
/** ORT's WebAssembly memory (its heap), once instantiated. */
let wasmMemory: WebAssembly.Memory | undefined;
const PAGE = 65536;
/** The most ORT's heap may grow to, fixed when ORT starts. */
let heapMaxBytes = 96 * 1024 * 1024;
/** Puts back WebAssembly.Memory once ORT has made its heap (or failed to start). */
let restoreMemory = (): void => undefined;

function findMemory(imports: WebAssembly.Imports | undefined): WebAssembly.Memory | undefined {
  for (const module of Object.values(imports ?? {})) {
    for (const value of Object.values(module)) if (value instanceof WebAssembly.Memory) return value;
  }
  return undefined;
}

/**
 * Bytes of ORT's WebAssembly heap in this isolate, or null before ORT started. It grows to hold
 * every loaded session and never shrinks (the 128 MB isolate budget includes it).
 */
export function wasmHeapBytes(): number | null {
  return wasmMemory ? wasmMemory.buffer.byteLength : null;
}

/** The most ORT's heap may grow to in this isolate. */
export const wasmHeapMaxBytes = (): number => heapMaxBytes;

/** ORT starts with a 16 MiB heap; a cap below twice that would leave no room for a model. */
export const MIN_HEAP_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Sets the most ORT's heap may grow to (rounded down to whole pages, at least MIN_HEAP_MAX_BYTES).
 * Only a call before ORT starts counts: a memory's maximum is fixed when it is made.
 */
export function setWasmHeapMax(bytes: number): void {
  if (!configured) heapMaxBytes = Math.max(MIN_HEAP_MAX_BYTES, Math.floor(bytes / PAGE) * PAGE);
}

/**
 * ORT's heap is the shared memory its loader makes with a 4 GiB maximum. Made with the cap as its
 * maximum instead, a growth past it fails inside ORT's allocator, which fails that one run or
 * load with an error and leaves every other session as it was.
 */
function capNextSharedMemory(): () => void {
  const Native = WebAssembly.Memory;
  const maxPages = heapMaxBytes / PAGE;
  class CappedMemory extends Native {
    constructor(descriptor: WebAssembly.MemoryDescriptor) {
      const capped = descriptor.shared && (descriptor.maximum ?? Infinity) > maxPages;
      super(capped ? { ...descriptor, maximum: maxPages } : descriptor);
    }
  }
  WebAssembly.Memory = CappedMemory;
  return () => {
    WebAssembly.Memory = Native;
  };
}

function configureOrt(): void {
  if (configured) return;
  configured = true;
  restoreMemory = capNextSharedMemory();
  const instantiate = WebAssembly.instantiate.bind(WebAssembly);
  const hooked = ((source: unknown, imports?: WebAssembly.Imports) => {
    if (ArrayBuffer.isView(source) && source.buffer === SENTINEL) {
      restoreMemory();
      wasmMemory = findMemory(imports);
      return instantiate(ortWasm, imports).then((instance) => {
        wasmMemory ??= Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory);
        return { instance, module: ortWasm };
      });
    }
    return instantiate(source as BufferSource, imports);
  }) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = hooked;
  ort.env.wasm.numThreads = 1; // workerd has no threads for WebAssembly
  ort.env.wasm.wasmBinary = SENTINEL;
  ort.env.logLevel = "error";
}

/**
 * A one-node graph, 105 bytes: `y = Identity(x)`, x and y float[1], opset 17, written with
 * scripts/onnx-build.ts. Loading it starts onnxruntime in the isolate (not a model anyone serves).
 */
const RUNTIME_START_MODEL = "CAgSDmVkZ2UtaW5mZXJlbmNlMgA6TQoaCgF4EgF5GghpZGVudGl0eSIISWRlbnRpdHkSDXJ1bnRpbWVfc3RhcnRaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR";

/** The start graph's bytes (for tests). */
export const runtimeStartModel = (): Uint8Array => Uint8Array.from(atob(RUNTIME_START_MODEL), (ch) => ch.charCodeAt(0));

// Once per isolate, like the hook: ORT's module state can start only once.
let runtimeStart: Promise<void> | undefined;
let runtimeState: "not started" | "starting" | "started" | "failed" = "not started";

/**
 * Starts onnxruntime in this isolate, once: instantiates its WebAssembly, creates its environment
 * and runs the code a first session needs, by loading and releasing a one-node graph. The isolate
 * begins it as it starts (serving/startup), so no request waits for all of it. Model loads wait
 * for it. Never rejects: a failure shows in the model load that follows.
 */
export function startRuntime(): Promise<void> {
  runtimeStart ??= (async () => {
    runtimeState = "starting";
    configureOrt();
    try {
      const session = await ort.InferenceSession.create(runtimeStartModel(), { executionProviders: ["wasm"] });
      await session.release();
    } finally {
      restoreMemory();
    }
    runtimeState = "started";
  })().catch(() => {
    runtimeState = "failed";
  });
  return runtimeStart;
}

/** Where onnxruntime's start is in this isolate. */
export const runtimeStatus = () => runtimeState;

/** A model input or output: -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** A loaded model, ready to run. */
export interface LoadedSession {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Runs the model; `outputs` names which outputs to fetch, in order. Runs are serialised. */
  run(feeds: readonly Tensor[], outputs: readonly string[]): Promise<Tensor[]>;
  /** Frees the session's memory in ORT's heap. */
  release(): Promise<void>;
}

/** Why ORT could not load or run a model: its own message. */
export class OrtError extends Error {
  override name = "OrtError";
}

/** ORT ran out of heap: the load or run needed more than the cap (the model and input may be fine). */
export class OrtHeapError extends OrtError {
  override name = "OrtHeapError";
}

const ALLOCATION_FAILED = /bad_alloc|failed to allocate|out of memory|memory allocation/i;

/** ORT's error as an OrtError, an OrtHeapError when an allocation failed. */
function ortError(e: unknown): OrtError {
  const text = message(e);
  return ALLOCATION_FAILED.test(text) ? new OrtHeapError(text) : new OrtError(text);
}

const MAX_DIM = 0x7fffffff;

function specOf(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new OrtError(`'${meta.name}' is not a tensor (sequences and maps are not supported)`);
  const datatype = fromOrtType(meta.type);
  if (!datatype) throw new OrtError(`'${meta.name}' has element type ${meta.type}, which this service does not support`);
  // ORT reports a dynamic dimension as its symbolic name or as 2^32-1.
  const shape = meta.shape.map((d) => (typeof d === "number" && d >= 0 && d <= MAX_DIM ? d : -1));
  return { name: meta.name, datatype, shape };
}

function toOrt(t: Tensor): ort.Tensor {
  const type = datatypeInfo(t.datatype).ort;
  return new ort.Tensor(type as "float32", t.data as Float32Array, t.shape);
}

function fromOrt(name: string, value: ort.Tensor): Tensor {
  const datatype = fromOrtType(value.type);
  if (!datatype) throw new OrtError(`output '${name}' has element type ${value.type}, which this service does not support`);
  let data = value.data as Tensor["data"];
  // Float16Array where the platform has one, Uint16Array otherwise: keep the bits either way.
  if (datatype === "FP16") {
    const view = data as unknown as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return { name, datatype, shape: [...value.dims], data };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** onnxruntime's levers for one session (a model's config may set some: serving/session-options). */
export interface SessionTuning {
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  enableMemPattern?: boolean;
  enableCpuMemArena?: boolean;
  executionMode?: "sequential" | "parallel";
  /** Keep weights as loaded instead of also keeping a copy repacked for faster matrix products. */
  disablePrepacking?: boolean;
  /** Symbolic dimensions fixed to a size (e.g. `{ batch: 1 }`), so ORT can plan memory ahead. */
  freeDimensionOverrides?: Record<string, number>;
}

/** Creates a session from ONNX bytes. Throws OrtError with ORT's reason when the model is unusable. */
export async function loadSession(bytes: Uint8Array, tuning: SessionTuning = {}): Promise<LoadedSession> {
  await startRuntime();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: tuning.graphOptimizationLevel ?? "all",
      ...(tuning.enableMemPattern !== undefined ? { enableMemPattern: tuning.enableMemPattern } : {}),
      ...(tuning.enableCpuMemArena !== undefined ? { enableCpuMemArena: tuning.enableCpuMemArena } : {}),
      ...(tuning.executionMode !== undefined ? { executionMode: tuning.executionMode } : {}),
      ...(tuning.disablePrepacking ? { extra: { session: { disable_prepacking: "1" } } } : {}),
      ...(tuning.freeDimensionOverrides ? { freeDimensionOverrides: tuning.freeDimensionOverrides } : {}),
    });
  } catch (e) {
    throw ortError(e);
  }
  // A session was made, so onnxruntime runs, whatever became of the start graph.
  runtimeState = "started";
  let inputs: TensorSpec[];
  let outputs: TensorSpec[];
  try {
    inputs = session.inputMetadata.map(specOf);
    outputs = session.outputMetadata.map(specOf);
  } catch (e) {
    await session.release();
    throw e;
  }
  let queue: Promise<unknown> = Promise.resolve();
  return {
    inputs,
    outputs,
    run(feeds, fetches) {
      const result = queue.then(async () => {
        const ortFeeds = Object.fromEntries(feeds.map((t) => [t.name, toOrt(t)]));
        // Outputs are never pre-allocated: onnxruntime-web's WebAssembly backend copies a
        // pre-allocated CPU tensor into its heap and does not copy the results back, so every run
        // after the first would hand out the first one's outputs (docs/performance.md).
        let out: ort.InferenceSession.ReturnType;
        try {
          out = await session.run(ortFeeds, [...fetches]);
        } catch (e) {
          throw ortError(e);
        }
        return fetches.map((name) => fromOrt(name, out[name]!));
      });
      queue = result.catch(() => undefined);
      return result;
    },
    release: () => session.release(),
  };
}
