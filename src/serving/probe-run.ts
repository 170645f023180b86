/**
 * @module serving/probe-run: a publish runs the model once before storing it, on inputs of zeros
 * shaped from its signature with every dynamic dimension at 1. A model whose smallest run already
 * needs more heap than the cap is refused. One that fails on zeros for another reason is kept:
 * many models need meaningful values (Silero VAD refuses a sample rate of 0), so the publish only
 * reports it.
 */
import type { ServingError } from "../errors";
import { datatypeInfo } from "../tensor/datatype";
import { elementCount, type Tensor } from "../tensor/tensor";
import { OrtHeapError, wasmHeapMaxBytes, type LoadedSession, type TensorSpec } from "./loader";
import { heapExhausted } from "./heap-exhausted";

/** Zeros (empty strings for BYTES) for each input, dynamic dimensions at 1. */
export function probeInputs(inputs: readonly TensorSpec[]): Tensor[] {
  return inputs.map((spec) => {
    const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
    return { name: spec.name, datatype: spec.datatype, shape, data: datatypeInfo(spec.datatype).array(elementCount(shape)) };
  });
}

/** What the publish's first run found: a refusal, or the reason zeros could not run (kept as a warning). */
export type ProbeOutcome = { refused: ServingError } | { ran: true } | { ran: false; reason: string };

/** Runs `session` once on probe inputs; inputs of fixed shapes larger than the cap are refused unbuilt. */
export async function probeRun(session: LoadedSession): Promise<ProbeOutcome> {
  const bytes = session.inputs.reduce((n, spec) => n + elementCount(spec.shape.map((d) => (d < 0 ? 1 : d))) * Math.max(1, datatypeInfo(spec.datatype).size), 0);
  if (bytes > wasmHeapMaxBytes()) {
    const reason = `its smallest inputs alone take ${bytes} bytes`;
    return { refused: heapExhausted("this model was not published: its first run (inputs of zeros, dynamic dimensions at 1)", new OrtHeapError(reason)) };
  }
  try {
    await session.run(probeInputs(session.inputs), session.outputs.map((o) => o.name));
    return { ran: true };
  } catch (e) {
    if (e instanceof OrtHeapError) return { refused: heapExhausted("this model was not published: its first run (inputs of zeros, dynamic dimensions at 1)", e) };
    return { ran: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
