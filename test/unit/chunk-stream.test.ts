import { describe, expect, it } from "vitest";
import { type ChunkTransformer, transformedBody } from "../../shared/providers/chunk-stream.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Upper-cases each chunk, emits nothing for "skip", says "bye" and stops at "stop", and "end" at the upstream's end. */
const shouting: ChunkTransformer = {
  push(chunk, emit) {
    const word = text.decode(chunk);
    if (word === "stop") {
      emit(utf8.encode("bye"));
      return false;
    }
    if (word !== "skip") emit(utf8.encode(word.toUpperCase()));
    return true;
  },
  end(emit) {
    emit(utf8.encode("end"));
  },
};

/** An upstream that records how many chunks were read and whether it was cancelled. */
function upstream(words: readonly string[], failAfter?: number) {
  const seen = { pulls: 0, cancelled: null as unknown };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (failAfter !== undefined && seen.pulls === failAfter) {
          controller.error(new Error("connection reset"));
          return;
        }
        const word = words[seen.pulls++];
        if (word === undefined) controller.close();
        else controller.enqueue(utf8.encode(word));
      },
      cancel(reason) {
        seen.cancelled = reason ?? "cancelled";
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(text.decode(value));
  }
}

describe("transformedBody", () => {
  it("reads the upstream only as the reader asks, reading on past chunks that complete nothing", async () => {
    const { stream, seen } = upstream(["a", "skip", "b"]);
    const reader = transformedBody(stream, shouting).getReader();
    expect(text.decode((await reader.read()).value)).toBe("A");
    expect(seen.pulls).toBe(1);
    expect(text.decode((await reader.read()).value)).toBe("B");
    expect(seen.pulls).toBe(3);
    expect(text.decode((await reader.read()).value)).toBe("end");
    expect((await reader.read()).done).toBe(true);
  });

  it("closes and cancels the upstream when the transformer says the answer is over", async () => {
    const { stream, seen } = upstream(["a", "stop", "never read"]);
    expect(await readAll(transformedBody(stream, shouting))).toEqual(["A", "bye"]);
    expect(seen.pulls).toBe(2);
    expect(seen.cancelled).not.toBeNull();
  });

  it("cancels the upstream when its reader cancels, and fails when the upstream fails", async () => {
    const cancelled = upstream(["a", "b"]);
    const reader = transformedBody(cancelled.stream, shouting).getReader();
    await reader.read();
    await reader.cancel("client left");
    expect(cancelled.seen.cancelled).toBe("client left");

    const failing = upstream(["a", "b"], 1);
    await expect(readAll(transformedBody(failing.stream, shouting))).rejects.toThrow("connection reset");
  });
});
