/**
 * The /__loop route of loop-worker.ts and ab.ts's Worker: it repeats a request inside
 * the isolate, so a service's own cost per request is timed without sockets, HTTP parsing or a
 * load generator sharing the machine (their noise is larger than what one part of the service costs).
 *
 *   POST /__loop?n=K&path=P&method=M&headers={json}[&variant=V]   body: the request's body
 *        → { us_per_request } for K calls of the service's fetch on that request, each read to the
 *          end (the service named V, when the Worker holds more than one: ab.ts)
 *   POST /__loop?n=K&bare=MODEL&headers={json}        body: the inputs' raw bytes, X-Shapes in headers
 *        → the same for the bare Worker's handling (bench/bare-worker.ts's /run) of the same session,
 *          its bytes read from the service's bucket: the baseline, in the same isolate
 *   POST /__loop?n=K&floor=1                          → the same for building the Request, reading
 *        its body and answering an empty Response: what every loop pays before any handler
 */
import { loadSession, type LoadedSession } from "../../src/serving/loader";
import { bareRun } from "../bare-run";

type Service = { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> };

const bareSessions = new Map<string, LoadedSession>();

async function bareSession(env: Env, model: string): Promise<LoadedSession> {
  let s = bareSessions.get(model);
  if (!s) {
    const object = await env.MODELS.get(`${model}/1/model.onnx`);
    if (!object) throw new Error(`no ${model}/1/model.onnx`);
    s = await loadSession(new Uint8Array(await object.arrayBuffer()));
    bareSessions.set(model, s);
  }
  return s;
}

/** bench/bare-worker.ts's /run, on a Request. */
async function bareRequest(session: LoadedSession, request: Request): Promise<Response> {
  const shapes = JSON.parse(request.headers.get("x-shapes") ?? "[]") as number[][];
  const out = await bareRun(session, shapes, new Uint8Array(await request.arrayBuffer()));
  return new Response(out, { headers: { "content-type": "application/octet-stream" } });
}

/** The /__loop handler over `services` (the first one when a request names none). */
export function loopRoute(services: Record<string, Service>) {
  return async function loop(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 1000);
    const bare = url.searchParams.get("bare");
    const variant = url.searchParams.get("variant") ?? Object.keys(services)[0]!;
    const service = services[variant];
    if (!service) return Response.json({ error: `no variant ${variant}` }, { status: 400 });
    const method = url.searchParams.get("method") ?? "POST";
    const headers = JSON.parse(url.searchParams.get("headers") ?? "{}") as Record<string, string>;
    const target = new URL(url.searchParams.get("path") ?? "/", url.origin).toString();
    const body = method === "GET" ? undefined : new Uint8Array(await request.arrayBuffer());
    // As a client over HTTP sends it (a Request built from bytes has no content-length of its own).
    if (body) headers["content-length"] = String(body.byteLength);
    const session = bare ? await bareSession(env, bare) : undefined;
    const floor = url.searchParams.get("floor") === "1";
    let status = 0;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const r = new Request(target, { method, headers, body });
      const res = floor ? new Response((await r.arrayBuffer()).byteLength ? null : null) : session ? await bareRequest(session, r) : await service.fetch(r, env, ctx);
      await res.arrayBuffer();
      status = res.status;
    }
    return Response.json({ n, status, us_per_request: ((performance.now() - started) * 1000) / n });
  };
}
