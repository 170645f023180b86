/**
 * Properties of the wire codecs (fast-check): the binary layout and the JSON values round-trip for
 * every datatype, and no body, header or shape a client can send makes a decoder throw anything
 * but a 400 (a ServingError the frontends render in the protocol's error shape): never a
 * RangeError or TypeError, which would surface as a 500.
 */
import fc from "fast-check";
import { f16round } from "@petamoriken/float16";
import { describe, expect, it } from "vitest";
import { invalid, ServingError } from "../src/errors";
import { concatAlong, sliceAlong } from "../src/tensor/axis";
import { fromBinary, shapeFromByteCount, toBinary } from "../src/tensor/binary";
import { DATATYPES, datatypeInfo, integerRange, type Datatype } from "../src/tensor/datatype";
import { decodeRawInput, splitBody } from "../src/tensor/kserve-binary";
import { decodeInferRequest } from "../src/tensor/kserve-json";
import { decodePredictRequest } from "../src/tensor/tf-json";
import { fromJsonValues, toJsonValues } from "../src/tensor/json-values";
import { elementCount, flatten, inferShape, nest, type Tensor } from "../src/tensor/tensor";

const RUNS = { numRuns: 300 };
const FIXED = DATATYPES.filter((d) => d !== "BYTES");

/** Runs `decode`; passes when it returns or throws a 400 ServingError, fails on anything else. */
function onlyBadRequest(decode: () => unknown): void {
  try {
    decode();
  } catch (e) {
    if (!(e instanceof ServingError)) throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}, not a ServingError`);
    expect(e.status).toBe(400);
    expect(e.message.length).toBeGreaterThan(0);
  }
}

/** The binary layout of BYTES elements, written from Triton's description: u32 LE length, then the bytes. */
function bytesLayout(strings: readonly string[]): Uint8Array {
  const encoded = strings.map((s) => new TextEncoder().encode(s));
  const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.byteLength, 0));
  let at = 0;
  for (const e of encoded) {
    new DataView(out.buffer).setUint32(at, e.byteLength, true);
    out.set(e, at + 4);
    at += 4 + e.byteLength;
  }
  return out;
}

const smallShape = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 });
/** Dimensions that overflow counts and array lengths, beside ordinary ones. */
const anyDimension = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER),
);
const datatype = fc.constantFrom(...DATATYPES);

/** `bytes` placed at `offset` inside a larger buffer, as a body's tail is. */
const at = (bytes: Uint8Array, offset: number) => {
  const buffer = new Uint8Array(offset + bytes.byteLength);
  buffer.set(bytes, offset);
  return buffer.subarray(offset);
};

describe("the binary tensor layout", () => {
  it("round-trips every fixed-size datatype's bytes, at any alignment in the body", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXED), smallShape, fc.integer({ min: 0, max: 7 }), fc.infiniteStream(fc.integer({ min: 0, max: 255 })), (d, shape, offset, stream) => {
        const n = elementCount(shape) * datatypeInfo(d).size;
        const bytes = Uint8Array.from(stream.take(n), (b) => (d === "BOOL" ? b & 1 : b));
        const tensor = fromBinary("x", d, shape, at(bytes, offset));
        expect(tensor.shape).toEqual(shape);
        expect([...toBinary(tensor)]).toEqual([...bytes]);
      }),
      RUNS,
    );
  });

  it("round-trips BYTES elements of any text", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 12 }), { maxLength: 6 }), fc.integer({ min: 0, max: 7 }), (strings, offset) => {
        const layout = bytesLayout(strings);
        const tensor = fromBinary("x", "BYTES", [strings.length], at(layout, offset));
        expect(tensor.data).toEqual(strings);
        expect([...toBinary(tensor)]).toEqual([...layout]);
      }),
      RUNS,
    );
  });

  it("answers a byte count that does not fit the shape with a 400, whatever the shape", () => {
    fc.assert(
      fc.property(datatype, fc.array(anyDimension, { maxLength: 4 }), fc.uint8Array({ maxLength: 40 }), (d, shape, bytes) => {
        onlyBadRequest(() => fromBinary("x", d, shape, bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("works out a raw body's shape only when the bytes fill it, and refuses otherwise with a 400", () => {
    const modelDimension = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 6 }));
    fc.assert(
      fc.property(datatype, fc.array(modelDimension, { maxLength: 4 }), fc.integer({ min: 0, max: 200 }), (d, modelShape, byteCount) => {
        onlyBadRequest(() => {
          const shape = shapeFromByteCount("x", d, modelShape, byteCount);
          expect(elementCount(shape) * datatypeInfo(d).size).toBe(byteCount);
          shape.forEach((dim, i) => modelShape[i] !== -1 && expect(dim).toBe(modelShape[i]));
        });
        onlyBadRequest(() => decodeRawInput(new Uint8Array(byteCount), [{ name: "x", datatype: d, shape: modelShape }]));
      }),
      { numRuns: 1000 },
    );
  });
});

/** In-range JSON values of a datatype, and what they read back as once stored in it. */
function jsonValues(d: Datatype): fc.Arbitrary<{ sent: unknown[]; stored: unknown[] }> {
  const same = (values: fc.Arbitrary<unknown[]>) => values.map((v) => ({ sent: v, stored: v }));
  const list = <T,>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 8 });
  switch (d) {
    case "BYTES": return same(list(fc.string()));
    case "BOOL": return same(list(fc.boolean()));
    case "FP64": return same(list(fc.double({ noNaN: true, noDefaultInfinity: true })));
    case "FP32": return list(fc.float({ noNaN: true, noDefaultInfinity: true })).map((v) => ({ sent: v, stored: v.map(Math.fround) }));
    case "FP16": return list(fc.double({ min: -65504, max: 65504, noNaN: true })).map((v) => ({ sent: v, stored: v.map(f16round) }));
    default: {
      const range = integerRange(d)!;
      const clamp = (b: bigint) => Number(b < BigInt(Number.MIN_SAFE_INTEGER) ? BigInt(Number.MIN_SAFE_INTEGER) : b > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : b);
      return same(list(fc.integer({ min: clamp(range.min), max: clamp(range.max) })));
    }
  }
}

/** One in-range JSON value of a datatype. */
const element = (d: Datatype) => jsonValues(d).filter(({ sent }) => sent.length > 0).map(({ sent }) => sent[0]);

/** Values just past what the datatype holds, and values of other types. */
const unfit = (d: Datatype) => {
  const range = integerRange(d);
  const edges =
    range ? [Number(range.min) - 1, Number(range.max) + 1, 0.5, 2 ** 53, -(2 ** 53)]
    : d === "FP32" ? [3.5e38, -3.5e38]
    : d === "FP16" ? [65520, -65520]
    : [];
  return fc.constantFrom(...edges, d === "BYTES" ? 1 : "1", d === "BOOL" ? 1 : true, null, [d === "BYTES" ? "" : 1], { b: 1 });
};

describe("JSON tensor values", () => {
  it("come back as sent for every datatype, floats rounded to the type's precision", () => {
    for (const d of DATATYPES) {
      fc.assert(
        fc.property(jsonValues(d), ({ sent, stored }) => {
          const tensor = fromJsonValues("x", d, [sent.length], sent);
          expect(toJsonValues(tensor)).toEqual(stored);
        }),
        { numRuns: 100 },
      );
    }
  });

  it("refuse a value just past the datatype's range, or of another type, with a 400 naming it", () => {
    for (const d of DATATYPES) {
      fc.assert(
        fc.property(element(d), unfit(d), fc.nat({ max: 3 }), (fine, bad, at) => {
          const values = [fine, fine, fine, fine];
          values[at] = bad;
          expect(() => fromJsonValues("x", d, [4], values)).toThrow(`input 'x': element ${at} (`);
        }),
        { numRuns: 40 },
      );
    }
  });
});

/** A KServe request header as a client might write it, right or wrong in any part. */
const kserveHeader = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer()),
    inputs: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom("x", "y", ""), fc.integer()),
          shape: fc.oneof(fc.array(anyDimension, { maxLength: 4 }), fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }), fc.jsonValue()),
          datatype: fc.oneof(datatype, fc.string({ maxLength: 5 })),
          parameters: fc.oneof(
            fc.record({ binary_data_size: fc.oneof(anyDimension, fc.integer({ min: -5, max: 64 }), fc.double(), fc.string()) }, { requiredKeys: [] }),
            fc.jsonValue(),
          ),
          data: fc.oneof(fc.array(fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string()), { maxLength: 6 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    outputs: fc.array(fc.record({ name: fc.constantFrom("y", "z"), parameters: fc.record({ binary_data: fc.oneof(fc.boolean(), fc.integer()) }, { requiredKeys: [] }) }, { requiredKeys: [] }), { maxLength: 3 }),
    parameters: fc.record({ binary_data_output: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

describe("decoding what a client sends", () => {
  it("gives a KServe binary request any header and tail: a decoded request or a 400", () => {
    fc.assert(
      fc.property(fc.oneof(kserveHeader, fc.jsonValue()), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -2, max: 2 }), (header, tail, skew) => {
        const json = new TextEncoder().encode(JSON.stringify(header));
        const body = new Uint8Array(json.byteLength + tail.byteLength);
        body.set(json);
        body.set(tail, json.byteLength);
        onlyBadRequest(() => {
          const split = splitBody(body, String(json.byteLength + skew));
          if (split.kind === "json") decodeInferRequest(split.json, split.binary);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it("gives any bytes and any Inference-Header-Content-Length a split or a 400", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.oneof(fc.nat({ max: 80 }).map(String), fc.string({ maxLength: 20 })), (body, length) => {
        onlyBadRequest(() => splitBody(body, length));
      }),
      { numRuns: 1000 },
    );
  });

  it("gives a KServe JSON request a decoded request or a 400", () => {
    fc.assert(fc.property(fc.oneof(kserveHeader, fc.jsonValue()), (body) => onlyBadRequest(() => decodeInferRequest(body))), { numRuns: 2000 });
  });

  it("gives a TF Serving predict request a decoded request or a 400", () => {
    const specs = [{ name: "x", datatype: "FP32" as const }, { name: "s", datatype: "BYTES" as const }];
    const instances = fc.array(fc.oneof(fc.array(fc.double(), { maxLength: 4 }), fc.record({ x: fc.jsonValue(), s: fc.oneof(fc.string(), fc.record({ b64: fc.string() })) }, { requiredKeys: [] }), fc.jsonValue()), { maxLength: 4 });
    const body = fc.oneof(
      fc.record({ instances, signature_name: fc.constantFrom("serving_default", "other") }, { requiredKeys: ["instances"] }),
      fc.record({ inputs: fc.oneof(fc.jsonValue(), fc.record({ x: fc.jsonValue(), s: fc.jsonValue() }, { requiredKeys: [] })) }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(body, fc.boolean(), (b, one) => onlyBadRequest(() => decodePredictRequest(b, one ? specs.slice(0, 1) : specs))),
      { numRuns: 2000 },
    );
  });
});

/**
 * Data laid out as its shape says (flat, or nested exactly to it) is read in one pass
 * (fromJsonLaidOut); anything else takes the general path (flatten, then fromJsonValues). These
 * check the one-pass reading against that path on the same data, laid out every way, with now and
 * then a value just past what the datatype holds, or of another type: the same tensor, or the same 400.
 */
describe("JSON data read in one pass", () => {
  const outcome = (read: () => Tensor) => {
    try {
      const t = read();
      return { shape: t.shape, data: t.data };
    } catch (e) {
      if (!(e instanceof ServingError)) throw e;
      return { status: e.status, error: e.message };
    }
  };
  /** A shape, its elements (now and then an unfit one), and those elements laid out one of several ways. */
  const laidOut = (d: Datatype) =>
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.array(fc.oneof({ weight: 10, arbitrary: element(d) }, { weight: 1, arbitrary: unfit(d) }), { minLength: elementCount(shape), maxLength: elementCount(shape) }),
        fc.constantFrom("flat", "nested", "extra level", "ragged", "one more"),
      ).map(([shape, values, layout]) => {
        const data =
          layout === "flat" ? values
          : layout === "extra level" ? [nest(values, shape)]
          : layout === "ragged" ? (nest(values, shape) as unknown[]).map((row, i) => (i === 0 && Array.isArray(row) ? row.slice(1) : row))
          : layout === "one more" ? [...(nest(values, shape) as unknown[]), values[0] ?? 0]
          : nest(values, shape);
        return { shape, data };
      }),
    );

  it("decodes KServe data as flattening it first would, for every datatype", () => {
    for (const d of DATATYPES) {
      fc.assert(
        fc.property(laidOut(d), ({ shape, data }) => {
          const general = outcome(() => fromJsonValues("x", d, shape, flatten(data)));
          expect(outcome(() => decodeInferRequest({ inputs: [{ name: "x", datatype: d, shape, data }] }).inputs[0]!)).toEqual(general);
        }),
        { numRuns: 150 },
      );
    }
  });

  it("decodes TF Serving columns and rows as inferring their shape and flattening them would", () => {
    for (const d of DATATYPES.filter((d) => d !== "BYTES")) {
      const specs = [{ name: "x", datatype: d }];
      fc.assert(
        fc.property(laidOut(d), ({ data }) => {
          const columns = outcome(() => fromJsonValues("x", d, inferShape(data, "input 'x'"), flatten(data)));
          expect(outcome(() => decodePredictRequest({ inputs: data }, specs).inputs[0]!)).toEqual(columns);
          // Rows: every instance of the first's shape, joined along a new first dimension.
          const list = data as unknown[];
          const rows = outcome(() => {
            if (list.length === 0) throw invalid("no instances");
            const row = inferShape(list[0], "x");
            for (const r of list) if (JSON.stringify(inferShape(r, "x")) !== JSON.stringify(row)) throw invalid("instances differ");
            return fromJsonValues("x", d, [list.length, ...row], flatten(list));
          });
          const decoded = outcome(() => decodePredictRequest({ instances: data }, specs).inputs[0]!);
          if ("data" in rows) expect(decoded).toEqual(rows);
          else expect(decoded).toMatchObject({ status: 400 });
        }),
        { numRuns: 150 },
      );
    }
  });
});

describe("nested lists", () => {
  /** `leaf` inside `depth` lists, built without recursion. */
  const nested = (depth: number, leaf: unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  it("nested deeper than any tensor's rank are a 400 in either protocol, however deep", () => {
    const depth = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 100, max: 200_000 }));
    const leaf = fc.oneof(fc.constant(1.5), fc.constant({ b64: "aGk=" }), fc.constant([]));
    fc.assert(
      fc.property(depth, leaf, (d, l) => {
        const specs = [{ name: "x", datatype: "FP32" as const }];
        onlyBadRequest(() => decodePredictRequest({ instances: [nested(d, l)] }, specs));
        onlyBadRequest(() => decodePredictRequest({ inputs: { x: nested(d, l) } }, specs));
        onlyBadRequest(() => decodeInferRequest({ inputs: [{ name: "x", datatype: "FP32", shape: [1], data: nested(d, l) }] }));
        onlyBadRequest(() => decodeInferRequest({ inputs: [{ name: "x", datatype: "FP32", shape: Array.from({ length: d }, () => 1), data: [1.5] }] }));
        // An element that is itself deeply nested (objects), which an error message previews.
        let deep: unknown = 1;
        for (let i = 0; i < d; i++) deep = { a: deep };
        onlyBadRequest(() => decodeInferRequest({ inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [deep] }] }));
        onlyBadRequest(() => decodePredictRequest({ instances: [[deep]] }, specs));
        onlyBadRequest(() => decodePredictRequest({ instances: [{ x: 1, y: deep }] }, specs));
      }),
      { numRuns: 60 },
    );
  });
});

describe("batches along an axis", () => {
  it("split back into exactly the requests joined", () => {
    const request = (shape: number[], axis: number) =>
      fc.integer({ min: 1, max: 3 }).chain((rows) => {
        const s = shape.map((d, i) => (i === axis ? rows : d));
        return fc.array(fc.float({ noNaN: true }), { minLength: elementCount(s), maxLength: elementCount(s) }).map((v): Tensor => ({ name: "x", datatype: "FP32", shape: s, data: Float32Array.from(v) }));
      });
    const batch = fc
      .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 })))
      .chain(([shape, axis]) => fc.tuple(fc.constant(axis), fc.array(request(shape, axis), { minLength: 1, maxLength: 4 })));
    fc.assert(
      fc.property(batch, ([axis, parts]) => {
        const joined = concatAlong(parts, axis);
        let start = 0;
        for (const p of parts) {
          const back = sliceAlong(joined, axis, start, p.shape[axis]!);
          expect(back.shape).toEqual(p.shape);
          expect([...back.data]).toEqual([...p.data]);
          start += p.shape[axis]!;
        }
      }),
      RUNS,
    );
  });
});
