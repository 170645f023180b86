/** The listing of a request's model starts while its admission is decided, and never decides the request. */
import { describe, expect, it } from "vitest";
import { admitWithListing } from "../../src/serving/prefetch";

/** A promise and its resolvers, to hold a step open. */
function held<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Node's process, typed here: this project's test files are checked with the Workers' types. */
const node = (globalThis as unknown as { process: { on(event: string, f: (e: unknown) => void): void; off(event: string, f: (e: unknown) => void): void } }).process;

describe("admitWithListing", () => {
  it("lists the model a protocol path names before admission ends, both protocols", async () => {
    for (const path of ["/v2/models/iris/versions/1/infer", "/v1/models/iris:predict", "/v2/models/silero-vad"]) {
      const listed: string[] = [];
      const admission = held<string>();
      const result = admitWithListing(path, async (m) => listed.push(m), () => admission.promise);
      // The listing began while admission is still undecided.
      expect(listed).toEqual([path.includes("silero") ? "silero-vad" : "iris"]);
      admission.resolve("admitted");
      expect(await result).toBe("admitted");
    }
  });

  it("lists nothing for server routes or invalid model names", async () => {
    for (const path of ["/v2", "/v2/health/ready", "/v2/models/..%2F..%2Fsecrets/infer", "/v1/models/-bad:predict"]) {
      const listed: string[] = [];
      expect(await admitWithListing(path, async (m) => listed.push(m), async () => 200)).toBe(200);
      expect(listed, path).toEqual([]);
    }
  });

  it("leaves a failed listing to the handler: admission's outcome stands, and nothing is unhandled", async () => {
    const unhandled: unknown[] = [];
    const record = (e: unknown) => unhandled.push(e);
    node.on("unhandledRejection", record);
    try {
      const listing = held<unknown>();
      const admitted = admitWithListing("/v2/models/iris/infer", () => listing.promise, async () => "admitted");
      listing.reject(new Error("R2 unreachable"));
      expect(await admitted).toBe("admitted");
      const refusal = new Error("429");
      await expect(admitWithListing("/v2/models/iris/infer", async () => undefined, () => Promise.reject(refusal))).rejects.toBe(refusal);
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      node.off("unhandledRejection", record);
    }
  });
});
