/**
 * @module monitoring/alerts: a model's alert rules against its recent statistics. Pure: the
 * model's statistics object supplies the window's figures and keeps each rule's state, firing a
 * webhook once when a rule starts breaching and re-arming when it recovers.
 */
import type { ModelConfig } from "../serving/config";
import { quantile, type Histogram } from "./histogram";

export type AlertRule = NonNullable<ModelConfig["alerts"]>["rules"][number];

/** Requests in a rule's window, all versions. */
export interface WindowFigures {
  count: number;
  errors: number;
  latency: Histogram;
}

/** A rule's current value, or null when there is not enough traffic to judge. */
export function ruleValue(rule: AlertRule, window: WindowFigures, driftScore: (tensor: string) => number | null): number | null {
  switch (rule.metric) {
    case "error_rate":
      if (window.count === 0 || window.count < (rule.min_requests ?? 1)) return null;
      return Math.round((window.errors / window.count) * 10_000) / 10_000;
    case "p99_latency_ms":
      if (window.count < (rule.min_requests ?? 1)) return null;
      return quantile(window.latency, 0.99);
    case "drift_score":
      return driftScore(rule.tensor!);
  }
}

/** What a rule's evaluation means for its state. */
export type Transition = "fire" | "recover" | "stay";

export function transition(firing: boolean, value: number | null, rule: AlertRule): Transition {
  if (value === null) return "stay";
  if (!firing && value > rule.above) return "fire";
  if (firing && value <= rule.above) return "recover";
  return "stay";
}

/** Seconds before the next attempt to deliver a webhook, after `attempts` failures. */
export const backoffSeconds = (attempts: number): number => Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
