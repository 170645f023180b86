import { describe, expect, it } from "vitest";
import { ResponseLru } from "../../src/serving/response-lru";

describe("ResponseLru: the isolate's tier of the response cache", () => {
  it("evicts the least recently used entries to stay within its bytes", () => {
    const lru = new ResponseLru<string>(300, () => 0);
    expect(lru.set("a", "A", 100, 1000)).toBe(true);
    expect(lru.set("b", "B", 100, 1000)).toBe(true);
    expect(lru.set("c", "C", 100, 1000)).toBe(true);
    expect(lru.get("a")?.value).toBe("A"); // a is now the most recent
    expect(lru.set("d", "D", 150, 1000)).toBe(true);
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("c")).toBeUndefined();
    expect(lru.get("a")?.value).toBe("A");
    expect(lru.get("d")?.value).toBe("D");
    expect(lru.status()).toEqual({ entries: 2, bytes: 250, max_bytes: 300, evictions: 2 });
  });

  it("keeps nothing larger than its whole bound", () => {
    const lru = new ResponseLru<string>(100, () => 0);
    lru.set("a", "A", 50, 1000);
    expect(lru.set("big", "B", 101, 1000)).toBe(false);
    expect(lru.get("big")).toBeUndefined();
    expect(lru.get("a")?.value).toBe("A");
  });

  it("forgets an entry at its expiry, and drops expired entries before live ones", () => {
    let now = 0;
    const lru = new ResponseLru<string>(200, () => now);
    lru.set("short", "S", 100, 500);
    lru.set("long", "L", 100, 5000);
    now = 499;
    expect(lru.get("short")?.expiresAt).toBe(500);
    now = 500;
    lru.set("new", "N", 100, 5000);
    expect(lru.status()).toMatchObject({ entries: 2, bytes: 200, evictions: 0 });
    expect(lru.get("long")?.value).toBe("L");
    expect(lru.get("short")).toBeUndefined();
  });

  it("shrinks to a lower bound at once", () => {
    const lru = new ResponseLru<string>(300, () => 0);
    for (const k of ["a", "b", "c"]) lru.set(k, k, 100, 1000);
    lru.configure(150);
    expect(lru.status()).toEqual({ entries: 1, bytes: 100, max_bytes: 150, evictions: 2 });
    expect(lru.get("c")?.value).toBe("c");
  });

  it("replacing an entry counts its bytes once", () => {
    const lru = new ResponseLru<string>(300, () => 0);
    lru.set("a", "A", 100, 1000);
    lru.set("a", "A2", 120, 1000);
    expect(lru.status()).toMatchObject({ entries: 1, bytes: 120 });
    expect(lru.get("a")?.value).toBe("A2");
  });
});
