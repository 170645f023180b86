/**
 * The JavaScript client code of the README and docs/protocols.md (@edge-inference/client), each block run as written (its URL
 * pointed at a real `wrangler dev`, its key made for it) in Node: binary outputs are viewed where
 * they lie, JSON ones read, and the answers are onnxruntime-node's.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { referenceRun } from "../support/reference-runtime.ts";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const IRIS = join(root, "models/iris/1/model.onnx");
let dev: WranglerDev;

beforeAll(async () => {
  dev = await devFor("readme-client");
}, 90_000);

const admin = async (method: string, path: string, body: BodyInit, type = "application/json") => {
  const res = await fetch(`${dev.url}/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": type }, body });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res.json() as Promise<Record<string, unknown>>;
};

/** The code block that follows `heading` in a page of the documentation. */
function readmeBlock(page: string, heading: string): string {
  const readme = readFileSync(join(root, page), "utf8");
  const at = readme.indexOf(heading);
  expect(at, `${page}: ${heading}`).toBeGreaterThan(0);
  const start = readme.indexOf("```js\n", at) + "```js\n".length;
  return readme.slice(start, readme.indexOf("```", start));
}

const blocks = [
  ["README.md", "From JavaScript, with"],
  ["docs/protocols.md", "From JavaScript, `@edge-inference/client` frames"],
] as const;

for (const [page, heading] of blocks) {
  it(`runs the block after "${heading}" in ${page}, with onnxruntime-node's answers`, async () => {
    await admin("PUT", "/models/iris/versions/1", readFileSync(IRIS), "application/octet-stream");
    await admin("PUT", "/tenants/readme", JSON.stringify({ requests_per_minute: 600 }));
    const { key } = (await admin("POST", "/tenants/readme/keys", "{}")) as { key: string };
    const code = readmeBlock(page, heading).replaceAll("http://127.0.0.1:8787", dev.url);
    // Inside node_modules, so that the block's import of @edge-inference/client resolves as in the checkout.
    const dir = mkdtempSync(join(root, "node_modules", ".readme-client-"));
    try {
      const file = join(dir, "client.mjs");
      writeFileSync(file, `${code}\nconsole.log(JSON.stringify({ p: Array.from(p), l: Array.from(l, Number) }));\n`);
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [file], { env: { ...process.env, KEY: key } }, (error, stdout, stderr) => (error ? reject(new Error(stderr || String(error))) : resolve(stdout))),
      );
      const got = JSON.parse(out.trim().split("\n").at(-1)!) as { p: number[]; l: number[] };
      const [probabilities, label] = await referenceRun(IRIS, [{ name: "features", datatype: "FP32", shape: [2, 4], data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }]);
      expect(got.p).toHaveLength(6);
      got.p.forEach((v, i) => expect(Math.abs(v - (probabilities!.data[i] as number))).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(probabilities!.data[i] as number)));
      expect(got.l).toEqual(label!.data.map(Number));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
