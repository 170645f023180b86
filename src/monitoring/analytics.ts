/**
 * @module monitoring/analytics: one Workers Analytics Engine data point per prediction, queryable
 * with SQL. A deployment without the ANALYTICS binding writes none.
 */

/** What a data point records of one prediction. */
export interface PredictionPoint {
  model: string;
  version: number;
  tenant: string;
  outcome: string;
  status: number;
  ms: Record<string, number>;
  bytesIn: number;
}

/**
 * A prediction as a Workers Analytics Engine data point. Blobs: model, version, tenant, outcome;
 * doubles: total ms, inference ms, status, request bytes; index: the model (the sampling key).
 */
export function analyticsPoint(p: PredictionPoint): AnalyticsEngineDataPoint {
  return {
    indexes: [p.model],
    blobs: [p.model, String(p.version), p.tenant, p.outcome],
    doubles: [p.ms.total ?? 0, p.ms.inference ?? 0, p.status, p.bytesIn],
  };
}

/** Writes the prediction's point, when the environment has the binding. */
export function writeAnalytics(env: object, p: PredictionPoint): void {
  (env as { ANALYTICS?: AnalyticsEngineDataset }).ANALYTICS?.writeDataPoint(analyticsPoint(p));
}
