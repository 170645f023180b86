/** @module response-info: what every response's headers tell: the request id, rate limit, timings. */

/** The tenant's rate limit (IETF RateLimit headers): requests allowed, left, and seconds until refilled. */
export interface RateLimit {
  limit: number;
  remaining: number;
  reset: number;
}

export interface ResponseInfo {
  requestId: string | undefined;
  rateLimit: RateLimit | undefined;
  serverTiming: Record<string, number>;
}

export function responseInfo(headers: Headers): ResponseInfo {
  const limit = headers.get("ratelimit-limit");
  const rateLimit =
    limit === null
      ? undefined
      : { limit: Number(limit), remaining: Number(headers.get("ratelimit-remaining") ?? NaN), reset: Number(headers.get("ratelimit-reset") ?? NaN) };
  return { requestId: headers.get("x-request-id") ?? undefined, rateLimit, serverTiming: parseServerTiming(headers.get("server-timing")) };
}

/** `load;dur=0.1, inference;dur=0.4` → `{ load: 0.1, inference: 0.4 }` (entries without dur are left out). */
export function parseServerTiming(value: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of value?.split(",") ?? []) {
    const [name, ...params] = entry.trim().split(";");
    const dur = params.map((p) => /^\s*dur=([0-9.eE+-]+)\s*$/.exec(p)?.[1]).find((d) => d !== undefined);
    if (name && dur !== undefined) out[name.trim()] = Number(dur);
  }
  return out;
}
