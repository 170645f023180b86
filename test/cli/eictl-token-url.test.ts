/**
 * eictl sends the admin token over https, or over plain http only to this machine: asked to use
 * plain http to any other host, it refuses before sending anything. A real eictl process against
 * a real HTTP server listening on every interface, reached by a loopback and a non-loopback address.
 */
import { execFile } from "node:child_process";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "./wrangler-dev.ts";

const seen: IncomingHttpHeaders[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ models: [] }));
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function eictl(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { EDGE_INFERENCE_URL: _, EDGE_INFERENCE_ADMIN_TOKEN: __, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, "bin/eictl.js"), "--url", url, "--token", "secret-admin-token", ...args], { env: inherited }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** This machine's first IPv4 address that is not a loopback one, if it has one. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

describe("eictl's admin token", () => {
  it("goes over plain http to a loopback host", async () => {
    const listed = await eictl(`http://127.0.0.1:${port}`, "--json", "model", "list");
    expect(listed.code, listed.stderr).toBe(0);
    expect(seen.at(-1)?.authorization).toBe("Bearer secret-admin-token");
  });

  it.skipIf(!lanAddress)("is never sent over plain http to another host: a clear refusal, and no request at all", async () => {
    const before = seen.length;
    for (const url of [`http://${lanAddress}:${port}`, `http://localhost.${lanAddress}.nip.io:${port}`]) {
      const refused = await eictl(url, "model", "list");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("refusing to send the admin token");
      expect(refused.stderr).toContain("https://");
      expect(refused.stderr).not.toContain("secret-admin-token");
    }
    expect(seen.length).toBe(before);
  });
});
