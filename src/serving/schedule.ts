/**
 * @module serving/schedule: a request's place in its model's queue (Triton's schedule-policy
 * extension): its priority level and its deadline. They come from the request (`"parameters":
 * {"timeout": µs, "priority": level}`, or the Inference-Timeout-Microseconds and
 * Inference-Priority headers) and the model's queue policy (config.json `dynamic_batching`).
 * docs/scheduling.md says what applies when.
 */
import { invalid, ServingError } from "../errors";
import { own } from "../own";

/** Milliseconds from some fixed start, as performance.now() gives them. */
export interface Clock {
  now(): number;
}

/** A clock on performance.now(). Each isolate core keeps its own, whose `now` tests may replace. */
export const performanceClock = (): Clock => ({ now: () => performance.now() });

/** Triton's ModelQueuePolicy (config.json `dynamic_batching.default_queue_policy`); only REJECT on timeout. */
export interface QueuePolicy {
  /** A request's timeout when it sets none, microseconds; 0 or unset: none. */
  default_timeout_microseconds?: number;
  /** Whether a request's own timeout applies (only ever to shorten the default). */
  allow_timeout_override?: boolean;
  /** Most requests waiting at one priority level; 0 or unset: no bound. */
  max_queue_size?: number;
}

/** The scheduling fields of config.json `dynamic_batching`. */
export interface SchedulePolicy {
  /** Priority levels 1 (highest) to this; unset: one level. */
  priority_levels?: number;
  /** The level of a request that names none. */
  default_priority_level?: number;
  default_queue_policy?: QueuePolicy;
  /** Per priority level ("1", "2", ...): its own queue policy, in place of the default. */
  priority_queue_policy?: Record<string, QueuePolicy>;
}

/** The queue policy of priority level `priority` under `policy`. */
export const queuePolicyOf = (policy: SchedulePolicy, priority: number): QueuePolicy =>
  own(policy.priority_queue_policy, String(priority)) ?? policy.default_queue_policy ?? {};

/** What a request asks of the scheduler. */
export interface ScheduleRequest {
  /** Microseconds; 0: none asked. */
  timeoutUs?: number;
  /** 1 is the highest; 0: the model's default. */
  priority?: number;
}

/** Header carrying a request's timeout in microseconds (both protocols; TF Serving's only way). */
export const TIMEOUT_HEADER = "Inference-Timeout-Microseconds";
/** Header carrying a request's priority level (both protocols). */
export const PRIORITY_HEADER = "Inference-Priority";

/** Longest timeout a request or config may set: an hour, in microseconds. */
export const MAX_TIMEOUT_US = 3_600_000_000;

function level(value: unknown, where: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(`${where} must be a whole number from 0 to ${max}`);
  }
  return value;
}

/** The schedule a KServe request's `parameters` ask for. */
export function scheduleParameters(parameters: Record<string, unknown> | undefined): ScheduleRequest {
  return {
    timeoutUs: level(own(parameters, "timeout"), "parameter 'timeout' (microseconds)", MAX_TIMEOUT_US),
    priority: level(own(parameters, "priority"), "parameter 'priority'", Number.MAX_SAFE_INTEGER),
  };
}

/** The schedule a request's headers ask for. */
export function scheduleHeaders(header: (name: string) => string | undefined): ScheduleRequest {
  const read = (name: string, max: number) => {
    const raw = header(name)?.trim();
    if (raw === undefined) return undefined;
    if (!/^[0-9]{1,16}$/.test(raw)) throw invalid(`header ${name} must be a whole number from 0 to ${max}`);
    return level(Number(raw), `header ${name}`, max);
  };
  return { timeoutUs: read(TIMEOUT_HEADER, MAX_TIMEOUT_US), priority: read(PRIORITY_HEADER, Number.MAX_SAFE_INTEGER) };
}

/** `first`'s fields, else `second`'s. */
export const either = (first: ScheduleRequest, second: ScheduleRequest): ScheduleRequest => ({
  timeoutUs: first.timeoutUs ?? second.timeoutUs,
  priority: first.priority ?? second.priority,
});

/** A request's place in the queue, worked out once it is decoded. */
export interface Ticket {
  /** 1 is the highest. */
  priority: number;
  /** The clock's time past which, not yet running, it is refused; Infinity: none. */
  deadline: number;
  /** The timeout that set the deadline, microseconds (0: none), for the error's message. */
  timeoutUs: number;
  /** Aborts when the client goes away. */
  signal?: AbortSignal;
}

/**
 * The ticket of a request that reached its model at `arrived` (clock time). With a queue policy
 * (a model with dynamic batching), Triton's rules: the policy's default timeout, which a request
 * may only shorten, and only if `allow_timeout_override`; priority 0 or none is the default level.
 * Without one, the request's own timeout applies as asked, and every request has one level.
 */
export function ticketFor(asked: ScheduleRequest, policy: SchedulePolicy | undefined, arrived: number, signal?: AbortSignal): Ticket {
  let timeoutUs = asked.timeoutUs ?? 0;
  let priority = 1;
  if (policy) {
    const levels = policy.priority_levels ?? 0;
    if (levels > 0) {
      const p = asked.priority ?? 0;
      if (p > levels) throw invalid(`priority ${p} is not one of the model's priority levels, 1 (highest) to ${levels}; 0 or none is the default, ${policy.default_priority_level}`);
      priority = p === 0 ? (policy.default_priority_level ?? levels) : p;
    }
    const queue = queuePolicyOf(policy, priority);
    const fallback = queue.default_timeout_microseconds ?? 0;
    timeoutUs = queue.allow_timeout_override && timeoutUs > 0 ? (fallback > 0 ? Math.min(fallback, timeoutUs) : timeoutUs) : fallback;
  }
  return { priority, deadline: timeoutUs > 0 ? arrived + timeoutUs / 1000 : Infinity, timeoutUs, signal };
}

/** A request whose deadline passed before it ran (Triton: "Request timeout expired"). */
export function deadlineExceeded(ticket: Ticket, now: number): ServingError {
  const waited = Math.round((now - (ticket.deadline - ticket.timeoutUs / 1000)) * 1000);
  return new ServingError(
    "deadline_exceeded",
    `request timeout expired: the request waited ${waited} µs for its turn, past its timeout of ${ticket.timeoutUs} µs, and was not run`,
  );
}

/** A request refused at once: its priority level's queue holds `max_queue_size` already. */
export function queueFull(priority: number, size: number): ServingError {
  return new ServingError(
    "unavailable",
    `the model's queue for priority level ${priority} is full (max_queue_size, ${size} requests); retry shortly`,
    { headers: { "Retry-After": "1" } },
  );
}

/** A request whose client went away while it waited: it left the queue and never ran. */
export const cancelledInQueue = () => new ServingError("client_closed", "the client closed the connection while its request waited for its turn; it was not run");

/** A request whose client went away while it ran: its answer is dropped. */
export const answerDropped = () => new ServingError("client_closed", "the client closed the connection while its request ran; its answer was dropped");

/**
 * For a request that runs without a queue (a model without dynamic batching): throws if it may not
 * start its run now, its client gone or its deadline past.
 */
export function checkTurn(ticket: Ticket, now: number): void {
  if (ticket.signal?.aborted) throw cancelledInQueue();
  if (now > ticket.deadline) throw deadlineExceeded(ticket, now);
}
