/** Request bodies that arrive in two parts, for tests of what a request holds while its body is on the way. */

/** A body that stops before its last 16 bytes until `finish()`: its request holds what arrived meanwhile. */
export function paused(body: Uint8Array) {
  let finish!: () => void;
  const rest = new Promise<void>((r) => (finish = r));
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(body.slice(0, -16));
      await rest;
      controller.enqueue(body.slice(-16));
      controller.close();
    },
  });
  return { stream, finish };
}
