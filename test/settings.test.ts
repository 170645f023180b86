/** A bad [vars] value over the real Worker: every request answers 500, and the log names the variable once. */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";

afterEach(() => vi.restoreAllMocks());

function captureErrors() {
  const lines: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
  return lines;
}

describe("settings over the Worker", () => {
  it("refuses every request under a bad setting, logging it once by name, and leaves a good env serving", async () => {
    const lines = captureErrors();
    const app = createApp();
    const bad = { ...env, MAX_REQUEST_BYTES: "lots" };
    for (const path of ["/v2/health/live", "/v1/models/iris", "/v2/health/ready"]) {
      const res = await app.fetch(new Request(`https://edge.test${path}`), bad, createExecutionContext());
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: "internal error" });
    }
    const events = lines.map((l) => JSON.parse(l) as { event?: string; error: string }).filter((l) => l.event === "bad_settings");
    expect(events).toHaveLength(1);
    expect(events[0]!.error).toContain('MAX_REQUEST_BYTES="lots"');
    const good = await app.fetch(new Request("https://edge.test/v2/health/live"), { ...env }, createExecutionContext());
    expect(good.status).toBe(200);
  });
});
