/**
 * One load-generator process for bench/run.ts: at high connection counts a single Node event loop
 * answering every connection becomes part of what is measured, so the bench splits such loads
 * over several of these. Usage: node bench/load-client.ts <json: {url, method, bodyFile, headers,
 * connections, seconds}>; prints one JSON line of autocannon's figures.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

const o = JSON.parse(process.argv[2]!) as { url: string; method: "GET" | "POST"; bodyFile: string | null; headers: Record<string, string>; connections: number; seconds: number };
const r = await autocannon({
  url: o.url, method: o.method, body: o.bodyFile ? readFileSync(o.bodyFile) : undefined, headers: o.headers, connections: o.connections, duration: o.seconds,
});
process.stdout.write(`${JSON.stringify({ total: r.requests.total, average: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx })}\n`);
