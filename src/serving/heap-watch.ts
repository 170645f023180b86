/**
 * @module serving/heap-watch: which runs grew onnxruntime's WebAssembly heap. The heap never
 * shrinks and shares the isolate's 128 MB, so a run that raises its high-water mark is logged
 * (`wasm_heap_grew`) and kept for /admin/isolate: what an operator needs to set a model's
 * max_batch_size. Loads raise the mark silently (their own log line gives the heap).
 */
import { wasmHeapBytes } from "./loader";

/** A run that grew onnxruntime's heap (which never shrinks) past its high-water mark. */
export interface HeapGrowth {
  model: string;
  version: number;
  /** The run's rows along the batch dimension (a joined batch's, under dynamic batching). */
  rows: number;
  from_bytes: number;
  to_bytes: number;
  at: string;
}

/** The isolate's latest runs that grew the heap, newest last. */
const growth: HeapGrowth[] = [];
let highWater = 0;

/** The isolate's latest runs that grew the heap (at most 16), newest last. */
export const heapGrowth = (): HeapGrowth[] => [...growth];

/**
 * After a load (`rows` null) or a run: raises the heap's high-water mark if it grew. A run that
 * grew it is remembered and logged (`wasm_heap_grew`), so an operator sees which model and batch
 * took the isolate's memory; a load says so in its own log line.
 */
export function noteHeap(model: string, version: number, rows: number | null): void {
  const bytes = wasmHeapBytes();
  if (bytes === null || bytes <= highWater) return;
  const from = highWater;
  highWater = bytes;
  if (rows === null || from === 0) return;
  growth.push({ model, version, rows, from_bytes: from, to_bytes: bytes, at: new Date().toISOString() });
  if (growth.length > 16) growth.shift();
  console.warn(JSON.stringify({ level: "warn", event: "wasm_heap_grew", model, version, rows, from_bytes: from, to_bytes: bytes }));
}

/** After a session was created outside the manager (a publish validating its bytes): its heap is a load's. */
export const noteSessionCreated = (model: string, version: number): void => noteHeap(model, version, null);
