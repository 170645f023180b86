/**
 * Whatever a client puts in a route's name segments (model, version, label, tenant, key id): odd
 * characters, percent-escapes of invalid UTF-8, `..`, encoded slashes, very long names (fast-check).
 * The answer is never a 5xx, and an error is in its API's shape: `{"error"}`, or `{"error", "code"}`
 * for the admin API.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call, post, setup } from "./support/helpers";

beforeAll(setup);

/** A path segment as a client might send it, raw (not encoded by the test). */
const segment = fc.oneof(
  fc.constantFrom("iris", "1", "stable", "..", ".", "%2F", "%2e%2e", "%FF", "%E0%A4%A", "%00", "a%20b", "-1", "0", "1e3", "99999999999999999999", "iris:predict", "x".repeat(300)),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => encodeURIComponent(s).replace(/%25/g, "%")),
);

/** Routes with `{}` where a segment goes, the method, and who calls them. */
const ROUTES: { method: string; path: string; admin?: true; body?: unknown }[] = [
  { method: "GET", path: "/v2/models/{}" },
  { method: "GET", path: "/v2/models/{}/versions/{}" },
  { method: "GET", path: "/v2/models/{}/ready" },
  { method: "GET", path: "/v2/models/{}/stats" },
  { method: "POST", path: "/v2/models/{}/versions/{}/infer", body: { inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] } },
  { method: "GET", path: "/v1/models/{}" },
  { method: "GET", path: "/v1/models/{}/versions/{}" },
  { method: "GET", path: "/v1/models/{}/labels/{}/metadata" },
  { method: "POST", path: "/v1/models/{}/versions/{}:predict", body: { instances: [[1, 2, 3, 4]] } },
  { method: "POST", path: "/v1/models/{}/labels/{}:predict", body: { instances: [[1, 2, 3, 4]] } },
  { method: "GET", path: "/admin/models/{}", admin: true },
  { method: "GET", path: "/admin/models/{}/config", admin: true },
  { method: "DELETE", path: "/admin/models/{}/versions/{}", admin: true },
  { method: "GET", path: "/admin/models/{}/drift", admin: true },
  { method: "POST", path: "/admin/models/{}/drift/baseline?version={}", admin: true },
  { method: "GET", path: "/admin/tenants/{}", admin: true },
  { method: "GET", path: "/admin/tenants/{}/usage", admin: true },
  { method: "DELETE", path: "/admin/tenants/{}/keys/{}", admin: true },
];

describe("route name segments", () => {
  it("never make a route answer a 5xx, and errors keep their API's shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), segment, segment, async (route, a, b) => {
        let n = 0;
        const path = route.path.replace(/\{\}/g, () => (n++ === 0 ? a : b));
        const res = route.admin
          ? await adminCall(route.method, path.replace(/^\/admin/, ""), route.body)
          : route.body
            ? await post(path, route.body)
            : await call(path, { method: route.method });
        const text = await res.text();
        expect(res.status, `${route.method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) {
          const body = JSON.parse(text) as Record<string, unknown>;
          expect(typeof body.error).toBe("string");
          expect(Object.keys(body).sort()).toEqual(route.admin ? ["code", "error"] : ["error"]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
