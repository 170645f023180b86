/** A request's ticket: its priority and deadline from what it asks and its model's queue policy (Triton's rules). */
import { describe, expect, it } from "vitest";
import { ServingError } from "../../src/errors";
import { either, scheduleHeaders, scheduleParameters, ticketFor, TIMEOUT_HEADER, PRIORITY_HEADER } from "../../src/serving/schedule";

const AT = 5000;
const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as ServingError;
  }
  throw new Error("expected an error");
};

describe("ticketFor", () => {
  it("with no queue policy (no dynamic batching), takes the request's own timeout as asked, on one level", () => {
    expect(ticketFor({ timeoutUs: 1500, priority: 7 }, undefined, AT)).toEqual({ priority: 1, deadline: AT + 1.5, timeoutUs: 1500, signal: undefined });
    expect(ticketFor({}, undefined, AT).deadline).toBe(Infinity);
  });

  it("with a queue policy, ignores the request's timeout unless allow_timeout_override, which may only shorten the default", () => {
    const policy = (allow: boolean, fallback?: number) => ({ default_queue_policy: { allow_timeout_override: allow, default_timeout_microseconds: fallback } });
    expect(ticketFor({ timeoutUs: 10 }, policy(false, 2000), AT).timeoutUs).toBe(2000);
    expect(ticketFor({ timeoutUs: 10 }, policy(false), AT).deadline).toBe(Infinity);
    expect(ticketFor({ timeoutUs: 10 }, policy(true, 2000), AT).timeoutUs).toBe(10);
    expect(ticketFor({ timeoutUs: 5000 }, policy(true, 2000), AT).timeoutUs).toBe(2000);
    // No default (0): a request may set one, since any timeout is shorter than none.
    expect(ticketFor({ timeoutUs: 10 }, policy(true), AT)).toMatchObject({ timeoutUs: 10, deadline: AT + 0.01 });
    expect(ticketFor({ timeoutUs: 0 }, policy(true, 2000), AT).timeoutUs).toBe(2000);
  });

  it("takes a level's own queue policy, where priority_queue_policy gives one, in place of the default", () => {
    const policy = {
      priority_levels: 2,
      default_priority_level: 2,
      default_queue_policy: { default_timeout_microseconds: 9000 },
      priority_queue_policy: { "1": { default_timeout_microseconds: 100, allow_timeout_override: true } },
    };
    expect(ticketFor({ priority: 1, timeoutUs: 40 }, policy, AT).timeoutUs).toBe(40);
    expect(ticketFor({ priority: 1 }, policy, AT).timeoutUs).toBe(100);
    expect(ticketFor({ timeoutUs: 40 }, policy, AT).timeoutUs).toBe(9000);
  });

  it("gives a request its priority level, the default for 0 or none, and refuses one past the levels", () => {
    const levels = { priority_levels: 3, default_priority_level: 2 };
    expect(ticketFor({ priority: 1 }, levels, AT).priority).toBe(1);
    expect(ticketFor({ priority: 0 }, levels, AT).priority).toBe(2);
    expect(ticketFor({}, levels, AT).priority).toBe(2);
    const error = thrown(() => ticketFor({ priority: 4 }, levels, AT));
    expect(error.status).toBe(400);
    expect(error.message).toContain("priority 4 is not one of the model's priority levels, 1 (highest) to 3");
    // Without priority levels every request is on one.
    expect(ticketFor({ priority: 9 }, { default_queue_policy: {} }, AT).priority).toBe(1);
  });
});

describe("what a request asks", () => {
  it("reads KServe's parameters, refusing what is not a whole number of microseconds or a level", () => {
    expect(scheduleParameters({ timeout: 250, priority: 2, binary_data_output: true })).toEqual({ timeoutUs: 250, priority: 2 });
    expect(scheduleParameters(undefined)).toEqual({ timeoutUs: undefined, priority: undefined });
    for (const bad of [{ timeout: -1 }, { timeout: 1.5 }, { timeout: "100" }, { priority: -2 }, { priority: true }]) {
      expect(thrown(() => scheduleParameters(bad)).status).toBe(400);
    }
    expect(thrown(() => scheduleParameters({ timeout: 3_600_000_001 })).message).toContain("parameter 'timeout' (microseconds) must be a whole number from 0 to 3600000000");
  });

  it("reads the headers, and lets the body's parameters win over them", () => {
    const headers = (h: Record<string, string>) => (name: string) => h[name];
    expect(scheduleHeaders(headers({ [TIMEOUT_HEADER]: " 1000 ", [PRIORITY_HEADER]: "1" }))).toEqual({ timeoutUs: 1000, priority: 1 });
    expect(thrown(() => scheduleHeaders(headers({ [TIMEOUT_HEADER]: "1e3" }))).message).toContain(`header ${TIMEOUT_HEADER} must be a whole number`);
    expect(either({ timeoutUs: 5 }, { timeoutUs: 9, priority: 2 })).toEqual({ timeoutUs: 5, priority: 2 });
  });
});
