import { type MeteredResponse, UsageMeter } from "../metering/usage.js";
import { SseParser } from "../sse/parser.js";

export type RelayEnding = "completed" | "client_disconnected" | "upstream_failed" | "idle_timeout" | "first_token_timeout";

export interface RelayResult {
  ending: RelayEnding;
  metered: MeteredResponse;
  /** performance.now() when the relay ended. */
  endedAt: number;
}

export interface Relay {
  body: ReadableStream<Uint8Array>;
  /** Resolves once the stream has ended, however it ended. Never rejects. */
  done: Promise<RelayResult>;
}

export interface RelayOptions {
  /** The chunk the caller already read to learn that the stream started. */
  firstChunk: Uint8Array | undefined;
  abortUpstream: (reason: unknown) => void;
  /** The client request's signal: aborts when the client disconnects. */
  clientSignal: AbortSignal;
  /** Longest silence allowed between upstream chunks before the stream is ended. */
  idleTimeoutMs: number;
  /** Date.now() by which the first token must have arrived, else the stream is ended. */
  firstTokenDeadline: number;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream SSE body to the client byte for byte, each chunk passed on the
 * moment it arrives, and meters it on the side.
 *
 * The relay always ends, so usage is always settled: on completion, on an upstream
 * failure, on the client's disconnect (seen through the request signal, the stream's
 * cancel or a failed upstream read), and, as the last resort when the runtime tears a
 * request down without saying so, when the upstream has been silent for idleTimeoutMs.
 */
export function relaySse(upstream: ReadableStreamDefaultReader<Uint8Array>, options: RelayOptions): Relay {
  const meter = new UsageMeter();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let finish!: (result: RelayResult) => void;
  const done = new Promise<RelayResult>((resolve) => (finish = resolve));
  let ended = false;
  let lastChunkAt = Date.now();
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const observe = (chunk: Uint8Array): void => {
    lastChunkAt = Date.now();
    const now = performance.now();
    for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) meter.observe(event, now);
  };
  const end = (ending: RelayEnding, closing?: string): void => {
    if (ended) return;
    ended = true;
    clearInterval(watchdog);
    const now = performance.now();
    for (const event of parser.end()) meter.observe(event, now);
    finish({ ending, metered: meter.result(), endedAt: now });
    try {
      if (closing) controller.enqueue(encoder.encode(closing));
      controller.close();
    } catch {
      // The client side is already gone: nothing left to tell it.
    }
  };
  const stopUpstream = (reason: unknown): void => {
    options.abortUpstream(reason);
    upstream.cancel(reason).catch(() => {});
  };
  const clientGone = (reason?: unknown): void => {
    stopUpstream(reason);
    end("client_disconnected");
  };
  options.clientSignal.addEventListener("abort", () => clientGone(options.clientSignal.reason), { once: true });
  const watchdog = setInterval(
    () => {
      const now = Date.now();
      if (!meter.sawFirstToken && now >= options.firstTokenDeadline) {
        stopUpstream(new Error("first token timeout"));
        end("first_token_timeout", errorEvent("timeout_error", "The upstream sent no token in time; retry, or lower the prompt size."));
      } else if (now - lastChunkAt >= options.idleTimeoutMs) {
        stopUpstream(new Error("idle timeout"));
        end("idle_timeout", errorEvent("timeout_error", `The upstream sent nothing for ${options.idleTimeoutMs} ms.`));
      }
    },
    Math.min(1_000, options.idleTimeoutMs),
  );

  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        if (options.firstChunk) {
          controller.enqueue(options.firstChunk);
          observe(options.firstChunk);
        }
      },
      async pull() {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await upstream.read();
        } catch {
          // The runtime also fails the upstream read when the client has gone away.
          if (options.clientSignal.aborted) return clientGone(options.clientSignal.reason);
          return end("upstream_failed", errorEvent("api_error", "The upstream connection was lost mid-stream."));
        }
        if (ended) return;
        if (result.done) return end("completed");
        controller.enqueue(result.value);
        observe(result.value);
      },
      cancel: clientGone,
    },
    { highWaterMark: 0 },
  );
  return { body, done };
}

function errorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}
