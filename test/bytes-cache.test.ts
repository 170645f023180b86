/** The Cache API tier between isolate memory and R2, with the real local R2 and cache. */
import { describe, expect, it } from "vitest";
import { BytesCache, cacheUrl } from "../src/serving/bytes-cache";
import { ModelRepository } from "../src/serving/repository";
import { eventually, fixtureBytes, testEnv } from "./support/helpers";

describe("model bytes in the Cache API", () => {
  it("a first read goes to R2 and fills the cache; the next read of that etag comes from the cache", async () => {
    const bytes = new Uint8Array(await fixtureBytes("iris/1/model.onnx"));
    await testEnv.MODELS.put("bc/1/model.onnx", bytes);
    const pending: Promise<unknown>[] = [];
    const repo = new ModelRepository(testEnv.MODELS, BytesCache.open(true, (p) => pending.push(p)));
    const entry = (await repo.snapshot("bc"))!.versions[0]!;

    const first = await repo.read("bc", entry);
    expect(first.source).toBe("r2");
    await Promise.all(pending);
    const cached = await eventually(async () => (await caches.default.match(cacheUrl("bc", 1, entry.etag))) ?? undefined, "the cache entry");
    expect(new Uint8Array(await cached.arrayBuffer())).toEqual(bytes);

    const second = await repo.read("bc", entry);
    expect(second.source).toBe("cache");
    expect(second.bytes).toEqual(bytes);

    // Replaced bytes have a new etag, so a stale cache entry is never used for them.
    const other = new Uint8Array(await fixtureBytes("candidates/iris-retrained.onnx"));
    await testEnv.MODELS.put("bc/1/model.onnx", other);
    const replaced = (await repo.snapshot("bc"))!.versions[0]!;
    const third = await repo.read("bc", replaced);
    expect(third.source).toBe("r2");
    expect(third.bytes).toEqual(other);
  });

  it("does nothing when switched off", async () => {
    await testEnv.MODELS.put("bc-off/1/model.onnx", new Uint8Array(await fixtureBytes("iris/1/model.onnx")));
    const pending: Promise<unknown>[] = [];
    const repo = new ModelRepository(testEnv.MODELS, BytesCache.open(false, (p) => pending.push(p)));
    const entry = (await repo.snapshot("bc-off"))!.versions[0]!;
    expect((await repo.read("bc-off", entry)).source).toBe("r2");
    expect(pending).toHaveLength(0);
    expect((await repo.read("bc-off", entry)).source).toBe("r2");
  });
});
