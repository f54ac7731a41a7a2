/** Turns an upstream body's chunks into output chunks; pure, so it is tested without I/O. */
export interface ChunkTransformer {
  /**
   * Takes the next upstream chunk and emits every output chunk it completes, at once.
   * Returns false when the answer is over (e.g. an error event was emitted): the upstream
   * is then cancelled and the stream closed.
   */
  push(chunk: Uint8Array, emit: (bytes: Uint8Array) => void): boolean;
  /** The upstream ended: emits what is left to say, if anything. */
  end(emit: (bytes: Uint8Array) => void): void;
}

/**
 * `upstream` read through `transformer`, one upstream chunk per reader request. A pull
 * source instead of `pipeThrough(new TransformStream(...))`: no pipe and no writer per
 * chunk, which in workerd halves the cost a stream hop adds to every event. Nothing is
 * held back: whatever a chunk completes is enqueued before the next read. Cancelling the
 * stream cancels the upstream (and so the provider's request); an upstream failure errors it.
 */
export function transformedBody(upstream: ReadableStream<Uint8Array>, transformer: ChunkTransformer): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let emitted = false;
        const emit = (bytes: Uint8Array): void => {
          controller.enqueue(bytes);
          emitted = true;
        };
        while (!emitted) {
          const { value, done } = await reader.read();
          if (done) {
            transformer.end(emit);
            controller.close();
            return;
          }
          if (!transformer.push(value, emit)) {
            controller.close();
            await reader.cancel().catch(() => {});
            return;
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
