/**
 * Slow and vanishing clients over real sockets, against a real `wrangler dev` (issue 23): a socket
 * declaring a 16 MiB JSON body and dripping a byte at a time gets a 408 while another tenant's
 * prediction is answered; a socket closed mid-body is counted as a client abort, never as a
 * server error. Runs in Node (vitest project "cli").
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

let dev: WranglerDev;
let attacker = "";
let other = "";

const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${dev.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body instanceof Uint8Array ? { "content-type": "application/octet-stream" } : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });

async function keyFor(tenant: string): Promise<string> {
  expect((await admin("PUT", `/tenants/${tenant}`, { requests_per_minute: 100_000, burst: 100_000 })).status).toBeLessThan(300);
  return ((await (await admin("POST", `/tenants/${tenant}/keys`, {})).json()) as { key: string }).key;
}

beforeAll(async () => {
  // Its server has a short read timeout (servers.ts), so that a drip is ended within the test.
  dev = await devFor("slow-clients");
  const published = await admin("PUT", "/models/slow-iris/versions/1", new Uint8Array(readFileSync(join(root, "models/iris/1/model.onnx"))));
  expect(published.status, await published.text()).toBe(201);
  attacker = await keyFor("dripper");
  other = await keyFor("bystander");
}, 120_000);

/**
 * Opens a socket and sends a POST's head declaring `length` bytes, then `first`, then a byte every
 * `everyMs` (0: none). Resolves with what the server answered (its status line), or "closed".
 */
function rawPost(path: string, key: string, length: number, first: string, everyMs: number, closeAfterMs?: number): Promise<string> {
  const { port } = new URL(dev.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    const done = (what: string) => {
      if (timer !== undefined) clearInterval(timer);
      socket.destroy();
      resolve(what);
    };
    socket.on("connect", () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${first}`);
      if (everyMs > 0) timer = setInterval(() => socket.write(" "), everyMs);
      if (closeAfterMs !== undefined) setTimeout(() => done("closed"), closeAfterMs);
    });
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done(answer.slice(0, answer.indexOf("\r\n")));
    });
    socket.on("error", () => done(answer || "closed"));
  });
}

const predict = (key: string) =>
  fetch(`${dev.url}/v2/models/slow-iris/infer`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }),
  });

describe("slow and vanishing clients", () => {
  it("a socket declaring 16 MiB of JSON and dripping gets a 408, and another tenant is answered meanwhile", async () => {
    const drips = Array.from({ length: 4 }, () => rawPost("/v2/models/slow-iris/infer", attacker, 16 * 1024 * 1024, '{"inputs": [', 200));
    await new Promise((r) => setTimeout(r, 300));
    const answer = await predict(other);
    expect(answer.status, await answer.clone().text()).toBe(200);
    expect(((await answer.json()) as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual(["probabilities", "label"]);
    for (const status of await Promise.all(drips)) expect(status).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("a socket closed mid-body is a client abort in the model's statistics, not a server error", async () => {
    for (let i = 0; i < 3; i++) expect(await rawPost("/v2/models/slow-iris/infer", attacker, 1000, '{"inputs": [', 0, 300)).toBe("closed");
    expect((await predict(attacker)).status).toBe(200);
    let outcomes: Record<string, number> = {};
    for (let i = 0; i < 80 && (outcomes.client_abort ?? 0) < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const stats = (await (await fetch(`${dev.url}/v2/models/slow-iris/stats`, { headers: { authorization: `Bearer ${attacker}` } })).json()) as { model_stats: { outcomes: Record<string, number> }[] };
      outcomes = stats.model_stats[0]?.outcomes ?? {};
    }
    expect(outcomes.client_abort).toBe(3);
    expect(outcomes.server_error ?? 0).toBe(0);
  });
});
