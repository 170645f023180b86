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

/** The heap's high-water mark and the latest runs that raised it (one per isolate, in its core). */
export class HeapWatch {
  private readonly growth: HeapGrowth[] = [];
  private highWater = 0;

  /** `bytesNow` reads the heap's size (null before onnxruntime started). */
  constructor(private readonly bytesNow: () => number | null = wasmHeapBytes) {}

  /** The latest runs that grew the heap (at most 16), newest last. */
  growths(): HeapGrowth[] {
    return [...this.growth];
  }

  /**
   * After a load (`rows` null) or a run: raises the heap's high-water mark if it grew. A run that
   * grew it is remembered and logged (`wasm_heap_grew`), so an operator sees which model and batch
   * took the isolate's memory; a load says so in its own log line.
   */
  note(model: string, version: number, rows: number | null): void {
    const bytes = this.bytesNow();
    if (bytes === null || bytes <= this.highWater) return;
    const from = this.highWater;
    this.highWater = bytes;
    if (rows === null || from === 0) return;
    this.growth.push({ model, version, rows, from_bytes: from, to_bytes: bytes, at: new Date().toISOString() });
    if (this.growth.length > 16) this.growth.shift();
    console.warn(JSON.stringify({ level: "warn", event: "wasm_heap_grew", model, version, rows, from_bytes: from, to_bytes: bytes }));
  }
}
