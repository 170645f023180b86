import { describe, expect, it } from "vitest";
import { cacheDirectives, cacheStatus } from "../../src/http/cache-status";

describe("the response cache in HTTP's terms", () => {
  it("reads no-cache and no-store from Cache-Control, in any case and among other directives", () => {
    expect(cacheDirectives({}, "t")).toEqual({ lookup: true, store: true, tenant: "t" });
    expect(cacheDirectives({ cacheControl: "No-Cache" }, "t")).toMatchObject({ lookup: false, store: true });
    expect(cacheDirectives({ cacheControl: "max-age=0, no-store" }, "t")).toMatchObject({ lookup: true, store: false });
    expect(cacheDirectives({ cacheControl: 'no-cache="set-cookie" , no-store' }, "t")).toMatchObject({ lookup: false, store: false });
    expect(cacheDirectives({ cacheControl: "no-cachex, max-age=60" }, "t")).toMatchObject({ lookup: true, store: true });
  });

  it("honours Pragma: no-cache only without Cache-Control", () => {
    expect(cacheDirectives({ pragma: "no-cache" }, undefined)).toMatchObject({ lookup: false, store: true });
    expect(cacheDirectives({ pragma: "no-cache", cacheControl: "max-age=60" }, undefined)).toMatchObject({ lookup: true });
  });

  it("words each outcome as RFC 9211 does", () => {
    expect(cacheStatus({ lookup: "hit", tier: "isolate", ttlSeconds: 42, ms: 0 })).toBe("edge-inference; hit; ttl=42; detail=isolate");
    expect(cacheStatus({ lookup: "hit", tier: "data-centre", ttlSeconds: 0, ms: 0 })).toBe("edge-inference; hit; ttl=0; detail=data-centre");
    expect(cacheStatus({ lookup: "miss", stored: true, ms: 0 })).toBe("edge-inference; fwd=miss; stored");
    expect(cacheStatus({ lookup: "miss", stored: false, ms: 0 })).toBe("edge-inference; fwd=miss");
    expect(cacheStatus({ lookup: "request", stored: true, ms: 0 })).toBe("edge-inference; fwd=request; stored");
  });
});
