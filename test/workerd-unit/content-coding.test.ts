import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decompress, requestCoding } from "../../src/http/content-coding";
import { ServingError } from "../../src/errors";

const compress = async (bytes: Uint8Array, coding: "gzip" | "deflate") =>
  new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream(coding))).arrayBuffer();

class OverLimit extends Error {}

describe("decompressing a request body within a limit", () => {
  it("gives back exactly the bytes compressed when they fit the limit, and the limit's error as soon as they do not", async () => {
    // Lengths around the first buffer (64 KiB, or 4× the compressed size) and its doublings, and
    // limits on either side of the length, the length itself among them.
    const sizes = fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.constantFrom(65_535, 65_536, 65_537, 131_072, 131_073));
    await fc.assert(
      fc.asyncProperty(sizes, fc.integer({ min: -3, max: 3 }), fc.constantFrom("gzip" as const, "deflate" as const), fc.integer({ min: 1, max: 255 }), async (length, off, coding, run) => {
        // Runs of a byte: compressible, so the first buffer is often too small.
        const bytes = Uint8Array.from({ length }, (_, i) => Math.floor(i / run) % 251);
        const limit = Math.max(0, length + off);
        const compressed = await compress(bytes, coding);
        const result = decompress(compressed, coding, limit, () => new OverLimit());
        if (length > limit) {
          await expect(result).rejects.toBeInstanceOf(OverLimit);
        } else {
          const out = await result;
          expect(out.byteLength).toBe(length);
          expect(new Uint8Array(out)).toEqual(bytes);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("answers bytes that are not of the coding with a 400, gzip files concatenated among them (docs/protocols.md)", async () => {
    const gz = await compress(new TextEncoder().encode("x".repeat(10_000)), "gzip");
    const twice = new Uint8Array(2 * gz.byteLength);
    twice.set(new Uint8Array(gz));
    twice.set(new Uint8Array(gz), gz.byteLength);
    for (const [bytes, coding] of [[gz, "deflate"], [gz.slice(0, gz.byteLength - 8), "gzip"], [new TextEncoder().encode("plain").buffer, "gzip"], [twice.buffer, "gzip"]] as const) {
      const err = await decompress(bytes as ArrayBuffer, coding, 1 << 20, () => new OverLimit()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServingError);
      expect((err as ServingError).status).toBe(400);
    }
  });

  it("cancels the decompression and the compressed stream when it stops early (past the limit, or its progress refused), so nothing reads on", async () => {
    // A bomb: 16 MiB of zeros compressed (16 KiB), sent 1 KiB a pull, and then never ending.
    const compressed = new Uint8Array(await compress(new Uint8Array(16 << 20), "deflate"));
    const bomb = () => {
      const seen = { pulls: 0, cancelled: false };
      let at = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          seen.pulls++;
          if (at >= compressed.byteLength) return new Promise<void>(() => undefined);
          controller.enqueue(compressed.slice(at, (at += 1024)));
        },
        cancel() {
          seen.cancelled = true;
        },
      });
      return { stream, seen };
    };
    const settle = () => new Promise((r) => setTimeout(r, 50));
    for (const progress of [undefined, async (n: number) => { if (n > 1 << 20) throw new OverLimit(); }]) {
      const { stream, seen } = bomb();
      await expect(decompress(stream, "deflate", progress ? 64 << 20 : 1 << 20, () => new OverLimit(), progress)).rejects.toBeInstanceOf(OverLimit);
      await settle();
      expect(seen.cancelled).toBe(true);
      const pulls = seen.pulls;
      await settle();
      expect(seen.pulls).toBe(pulls);
    }
  });

  it("takes gzip, x-gzip and deflate in any case, identity as none, and refuses the rest with a 415 naming those accepted", () => {
    expect(requestCoding(undefined)).toBeNull();
    expect(requestCoding(" Identity ")).toBeNull();
    expect(requestCoding("GZIP")).toBe("gzip");
    expect(requestCoding("x-gzip")).toBe("gzip");
    expect(requestCoding("deflate")).toBe("deflate");
    for (const other of ["br", "zstd", "compress", "gzip, deflate", "gzip;q=1"]) {
      let thrown: unknown;
      try {
        requestCoding(other);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, other).toBeInstanceOf(ServingError);
      expect((thrown as ServingError).status).toBe(415);
      expect((thrown as ServingError).headers).toEqual({ "Accept-Encoding": "gzip, deflate, identity" });
    }
  });
});
