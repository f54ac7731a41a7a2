import { describe, expect, it } from "vitest";
import { relaySse } from "../../shared/upstream/relay.js";

const encoder = new TextEncoder();
const delta = (index: number) => encoder.encode(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t${index}"}}\n\n`);

/** An upstream that sends a content delta every `everyMs` until it is aborted, and counts what it sent. */
function endlessUpstream(everyMs: number) {
  let sent = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let timer: ReturnType<typeof setInterval> | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      timer = setInterval(() => controller.enqueue(delta(sent++)), everyMs);
    },
    cancel() {
      if (timer) clearInterval(timer);
    },
  });
  const abort = (reason: unknown) => {
    if (timer === null) return;
    clearInterval(timer);
    timer = null;
    controller.error(reason);
  };
  return { body, abort, sent: () => sent, aborted: () => timer === null };
}

describe("relay", () => {
  it("aborts an upstream that sends faster than the grace once the client has left, however the departure is seen", async () => {
    // Events every millisecond: each read after the client left finds a chunk within the grace,
    // so only a deadline counted from the departure can end the answer.
    const upstream = endlessUpstream(1);
    const reader = upstream.body.getReader();
    const first = await reader.read();
    const relay = relaySse(
      { reader, firstChunk: first.value },
      {
        toClient: true,
        abortUpstream: upstream.abort,
        clientSignal: new AbortController().signal, // the runtime does not always report the departure here
        idleTimeoutMs: 30_000,
        firstTokenDeadline: Date.now() + 30_000,
      },
    );
    const client = relay.body!.getReader();
    await client.read();
    await client.cancel(new Error("client gone")); // seen through the client's stream failing
    const leftAt = Date.now();
    const result = await Promise.race([relay.done, new Promise<null>((resolve) => setTimeout(() => resolve(null), 2_000))]);
    expect(result, "the relay never ended: the upstream kept sending and was never aborted").not.toBeNull();
    expect(upstream.aborted()).toBe(true);
    expect(result!.ending).toBe("client_disconnected");
    expect(Date.now() - leftAt).toBeLessThan(500);
    // What the upstream sent until it was aborted is metered, not more and not (much) less.
    expect(result!.metered.contentDeltas).toBeGreaterThan(0);
    expect(result!.metered.contentDeltas).toBeLessThanOrEqual(upstream.sent());
  });
});
