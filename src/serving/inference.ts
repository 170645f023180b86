/**
 * @module serving/inference: one request's run on a version. Counts the request as on its way to
 * the version's batcher until it is decoded, leases the session, checks the inputs, answers from
 * the response cache when it may, and otherwise runs the session, through the version's batcher
 * under dynamic batching.
 */
import { invalid } from "../errors";
import type { Tensor } from "../tensor/tensor";
import { cachedAnswer, type CacheDirectives, type CacheOutcome } from "./cached-answer";
import { heapExhausted } from "./heap-exhausted";
import { OrtError, OrtHeapError, type TensorSpec } from "./loader";
import type { Lease } from "./manager";
import type { ServingObserver } from "./observer";
import type { ModelSnapshot, VersionEntry } from "./repository";
import type { ResponseCache } from "./response-cache";
import { answerDropped, checkTurn, ticketFor, type ScheduleRequest } from "./schedule";
import type { ServingState } from "./serving-state";
import { checkBatchLimit, checkInputs, selectOutputs } from "./signature";

/** A request's target: the model as the repository has it, and the version chosen. */
export interface Target {
  snapshot: ModelSnapshot;
  entry: VersionEntry;
  /** True when no version or label was asked for: such a target may fall back (see ModelService.lease). */
  routed: boolean;
}

/** A leased session, and the version it is of: the target's, or the one a routed target fell back to. */
export interface Leased {
  lease: Lease;
  entry: VersionEntry;
}

/** What a request's decoder gives: its tensors, the outputs it asks for, and their parameters. */
export interface DecodedRequest {
  inputs: Tensor[];
  /** Names of the outputs asked for; undefined means all. */
  outputs?: readonly string[];
  /** Each requested output's parameters, by name, as sent. */
  outputParameters?: Readonly<Record<string, Record<string, unknown>>>;
  /** The request's deadline and priority, as it asked (serving/schedule). */
  schedule?: ScheduleRequest;
}

/** Turns a request's body into tensors once the inputs of the version that serves it are known. */
export type Decoder = (inputs: readonly TensorSpec[], entry: VersionEntry) => DecodedRequest;

/** A prediction and what produced it, for the response and for shadow comparison. */
export interface InferResult {
  /** The version that answered: the target's, or the one a routed target fell back to. */
  entry: VersionEntry;
  outputs: Tensor[];
  /** The decoded, checked inputs. */
  inputs: Tensor[];
  /** The outputs fetched, in order. */
  fetched: string[];
  /** Time in the session's run, milliseconds. */
  runMs: number;
  /** Time to lease the session (a load, when it was not loaded), milliseconds. */
  loadMs: number;
  /** For a model with `response_cache`: what the cache did (absent for other models). */
  cache?: CacheOutcome;
}

/** What a run needs of its request's ModelService. */
export interface InferenceContext {
  state: ServingState;
  responses: ResponseCache;
  observer: ServingObserver;
  lease(target: Target): Promise<Leased>;
}

/** Runs `target` on a request (see ModelService.infer). */
export async function runInference(
  ctx: InferenceContext,
  target: Target,
  read: () => Promise<Decoder>,
  directives: CacheDirectives,
  signal: AbortSignal | undefined,
): Promise<InferResult> {
  const { state, observer } = ctx;
  // A request's timeout counts from here: reading its body, loading the model and the queue all use it up.
  const arrived = state.clock.now();
  const arrival = state.inbound.arrive(`${target.snapshot.name}\u0000${target.entry.version}`);
  try {
    const decode = await read();
    const leasing = performance.now();
    const { lease, entry } = await ctx.lease(target);
    const loadMs = performance.now() - leasing;
    const served: Target = entry === target.entry ? target : { ...target, entry };
    const { config, name } = served.snapshot;
    const { version } = entry;
    try {
      const request = decode(lease.session.inputs, entry);
      checkInputs(lease.session.inputs, request.inputs);
      checkBatchLimit(name, lease.session.inputs, request.inputs, config.max_batch_size, config.dynamic_batching);
      const fetched = selectOutputs(lease.session.outputs, request.outputs);
      const caching = config.response_cache;
      // Still on its way to the batcher while it is looked up: a batch waits for it.
      const cached = caching ? await cachedAnswer(ctx.responses, observer, served, request, fetched, directives) : undefined;
      const ticket = ticketFor(request.schedule ?? {}, config.dynamic_batching, arrived, signal);
      arrival.done();
      const answer = { entry, inputs: request.inputs, fetched, loadMs };
      if (cached?.hit) return { ...answer, outputs: cached.hit, runMs: 0, cache: cached.outcome };
      try {
        const started = performance.now();
        const batching = config.dynamic_batching;
        const { session } = lease;
        const batcher = batching
          ? state.batchers.batcherFor(session, batching, (rows, ms) => {
              state.heap.note(name, version, rows);
              observer.execution(name, version, rows, ms);
            })
          : null;
        let outputs: Tensor[];
        if (batcher) {
          outputs = await batcher.submit(request.inputs, fetched, { ticket, inbound: arrival.others });
        } else {
          checkTurn(ticket, state.clock.now());
          outputs = await session.run(request.inputs, fetched);
          // A model without a batch dimension runs one inference a request, as Triton counts it.
          const rows = state.hasBatchDimension(session) ? (request.inputs[0]?.shape[0] ?? 1) : 1;
          state.heap.note(name, version, rows);
          observer.execution(name, version, rows, performance.now() - started);
          if (signal?.aborted) throw answerDropped();
        }
        const runMs = performance.now() - started;
        if (!cached) return { ...answer, outputs, runMs };
        const stored = directives.store && ctx.responses.store(cached.key, outputs, caching!.ttl_seconds);
        return { ...answer, outputs, runMs, cache: { ...cached.outcome, stored } };
      } catch (e) {
        if (e instanceof OrtHeapError) throw heapExhausted(`model '${name}' version ${version} on this input`, e, "Send fewer rows or smaller inputs.");
        if (!(e instanceof OrtError)) throw e;
        throw invalid(`model '${name}' could not run on this input: ${e.message}`);
      }
    } finally {
      lease.release();
    }
  } finally {
    arrival.done();
  }
}
