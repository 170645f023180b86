/**
 * One load generator: autocannon's figures for a load, run in this process or, when bench/run.ts
 * splits a load of many connections (one Node event loop answering every connection becomes part
 * of what is measured), as a process of its own: node bench/load-client.ts <json LoadSpec>,
 * printing one JSON line of ClientLoad.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  method: "GET" | "POST";
  body?: Buffer;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

/** A load's figures. */
export interface ClientLoad { total: number; average: number; p50: number; p99: number; errors: number; non2xx: number }

export async function runLoad(s: LoadSpec): Promise<ClientLoad> {
  const r = await autocannon({ url: s.url, method: s.method, body: s.body, headers: s.headers, connections: s.connections, duration: s.seconds });
  return { total: r.requests.total, average: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // The body comes as a file: a spec on the command line is text.
  const spec = JSON.parse(process.argv[2]!) as Omit<LoadSpec, "body"> & { bodyFile: string | null };
  const result = await runLoad({ ...spec, body: spec.bodyFile ? readFileSync(spec.bodyFile) : undefined });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
