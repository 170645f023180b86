/** @module serving/observer: what the serving core tells monitoring, which it never imports. */

/** Told of every cold load (and failed one), every run and every response cache lookup, for statistics. */
export interface ServingObserver {
  /** A cold load of a version, or a failed one. */
  load(model: string, version: number, failed: boolean): void;
  /** A successful run of a version on `batchSize` rows: one request's, or a dynamic batch's. */
  execution(model: string, version: number, batchSize: number, ms: number): void;
  /** A response cache lookup for a version, and whether it found the answer. */
  cache?(model: string, version: number, hit: boolean, ms: number): void;
}

/** An observer that records nothing. */
export const unobserved: ServingObserver = { load: () => undefined, execution: () => undefined };
