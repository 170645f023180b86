/**
 * @module http/growing-bytes: a request body's bytes in one buffer that grows in place as they
 * arrive (a resizable ArrayBuffer), so that a body is never held twice: not as its pieces and
 * again as their copy into one.
 */

/** Bytes appended one piece after another into one buffer, at most `most` of them. */
export class GrowingBytes {
  private readonly buffer: ArrayBuffer;
  private length = 0;

  constructor(most: number) {
    this.buffer = new ArrayBuffer(0, { maxByteLength: most });
  }

  /** Bytes appended so far. */
  get byteLength(): number {
    return this.length;
  }

  /** Copies `piece` in after the bytes so far; a RangeError past `most` (nothing is appended). */
  append(piece: Uint8Array): void {
    const end = this.length + piece.byteLength;
    if (end > this.buffer.maxByteLength) throw new RangeError(`more than ${this.buffer.maxByteLength} bytes`);
    this.buffer.resize(end);
    new Uint8Array(this.buffer).set(piece, this.length);
    this.length = end;
  }

  /** The bytes so far: a view of the one buffer, not a copy. */
  bytes(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.buffer, 0, this.length);
  }
}
