/** Alert rules in a model's config: a webhook once per incident, re-armed after recovery. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, eventually, json, post, setup, testEnv, uploadFixture } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const webhooks = async (prefix: string) =>
  ((await (await testEnv.FIXTURES.fetch("http://fixtures/webhooks")).json()) as { path: string; body: Record<string, unknown> }[]).filter((w) => w.path.startsWith(prefix));
const good = () => post("/v2/models/alerty/infer", { inputs: [irisBatch(1)] });
const bad = () => post("/v2/models/alerty/infer", { inputs: [{ name: "features", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] });
const states = async (model: string) => (await json<{ rules: { name: string; state: string; fired: number; value: number | null; last_error: string | null; attempts: number }[] }>(await adminCall("GET", `/models/${model}/alerts`))).rules;

describe("alerts", () => {
  it("fire once when the error rate crosses the threshold, and again only after recovering", async () => {
    await uploadFixture("alerty", 1, "iris/1/model.onnx");
    const alerts = { webhook: "http://webhook.test/ok/alerty", rules: [{ name: "errors", metric: "error_rate", above: 0.2, window_seconds: 600, min_requests: 5 }] };
    await json(await adminCall("PUT", "/models/alerty/config", { alerts }));
    for (let i = 0; i < 5; i++) await json(await good());
    for (let i = 0; i < 5; i++) await bad(); // 5 of 10: 0.5
    const fired = await eventually(async () => ((await webhooks("/ok/alerty")).length >= 1 ? webhooks("/ok/alerty") : undefined), "the alert");
    expect(fired).toHaveLength(1);
    expect(fired[0]!.body).toMatchObject({ model: "alerty", rule: "errors", metric: "error_rate", threshold: 0.2, state: "firing" });
    expect(fired[0]!.body.value as number).toBeGreaterThan(0.2);

    for (let i = 0; i < 5; i++) await bad(); // still firing: no second alert
    expect((await states("alerty"))[0]).toMatchObject({ name: "errors", state: "firing", fired: 1 });
    for (let i = 0; i < 40; i++) await json(await good()); // 10 of 55: 0.18, recovered
    expect((await states("alerty"))[0]).toMatchObject({ state: "ok", fired: 1 });
    for (let i = 0; i < 20; i++) await bad(); // 30 of 75: 0.4, a new incident
    await eventually(async () => ((await webhooks("/ok/alerty")).length >= 2 ? true : undefined), "the second alert");
    expect(await webhooks("/ok/alerty")).toHaveLength(2);
    expect((await states("alerty"))[0]).toMatchObject({ state: "firing", fired: 2 });
  });

  it("keeps an alert whose webhook fails, with the reason, to retry with back-off", async () => {
    await uploadFixture("alerty2", 1, "iris/1/model.onnx");
    const alerts = { webhook: "http://webhook.test/fail/alerty2", rules: [{ name: "any-error", metric: "error_rate", above: 0.1, min_requests: 1 }] };
    await json(await adminCall("PUT", "/models/alerty2/config", { alerts }));
    await post("/v2/models/alerty2/infer", { inputs: [] });
    const rule = await eventually(async () => {
      const r = (await states("alerty2"))[0];
      return r && r.attempts > 0 ? r : undefined;
    }, "a failed delivery");
    expect(rule).toMatchObject({ state: "firing", last_error: "webhook answered 500" });
  });

  it("refuses rules with unknown metrics or impossible thresholds", async () => {
    await uploadFixture("alerty3", 1, "iris/1/model.onnx");
    const put = (rules: unknown[], webhook = "https://hooks.example.com/x") => adminCall("PUT", "/models/alerty3/config", { alerts: { webhook, rules } });
    const cases: [unknown[], string][] = [
      [[{ name: "a", metric: "cpu_temperature", above: 1 }], "metric"],
      [[{ name: "a", metric: "error_rate", above: 1.5 }], "fraction below 1"],
      [[{ name: "a", metric: "p99_latency_ms", above: -1 }], "above"],
      [[{ name: "a", metric: "drift_score", above: 0.2 }], "names its tensor"],
      [[{ name: "a", metric: "error_rate", above: 0.1 }, { name: "a", metric: "error_rate", above: 0.2 }], "unique"],
      [[{ name: "a", metric: "error_rate", above: 0.1, window_seconds: 5 }], "window_seconds"],
    ];
    for (const [rules, fragment] of cases) {
      const res = await put(rules);
      expect(res.status, fragment).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(fragment);
    }
    expect((await put([{ name: "a", metric: "error_rate", above: 0.1 }], "ftp://x")).status).toBe(400);
  });
});
