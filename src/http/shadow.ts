/**
 * @module http/shadow: mirrors a share of predictions to the model's shadow version after the
 * response is sent (waitUntil), compares, and records the result in the model's statistics
 * object. Nothing here can change or delay the caller's response: every failure is only recorded.
 */
import type { Context } from "hono";
import { deferrer } from "../defer";
import type { AppEnv } from "../env";
import type { InferResult, Target } from "../serving/service";
import { compareOutputs, shadowFor, type ShadowSample } from "../serving/shadow";

/** Schedules the shadow run for this prediction, if the config asks for one. */
export function mirrorToShadow(c: Context<AppEnv>, target: Target, primary: InferResult): void {
  const shadow = shadowFor(target.snapshot, target.entry, Math.random());
  if (!shadow) return;
  const model = target.snapshot.name;
  const service = c.get("service");
  const stats = c.env.MODEL_STATS;
  const work = (async () => {
    let sample: ShadowSample;
    const base = { primaryVersion: target.entry.version, shadowVersion: shadow.version, primaryMs: primary.runMs };
    try {
      const result = await service.mirror(model, shadow, primary);
      sample = { ...base, shadowMs: result.runMs, ...compareOutputs(primary.outputs, result.outputs) };
    } catch (e) {
      sample = { ...base, agree: false, maxAbsDiff: null, shadowMs: null, error: (e instanceof Error ? e.message : String(e)).slice(0, 500) };
    }
    await stats.get(stats.idFromName(model)).recordShadow([sample]);
  })().catch((e) => {
    console.error(JSON.stringify({ level: "error", event: "shadow", model, error: e instanceof Error ? e.message : String(e) }));
  });
  deferrer(c)(work);
}
