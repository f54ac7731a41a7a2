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
 * The client's body is the readable side of an IdentityTransformStream that the relay
 * writes each chunk into: when the client disconnects mid-stream, the runtime fails the
 * next write. (A JavaScript pull stream is not reliably told: once the response has
 * started and deferred work is pending, workerd neither cancels it nor aborts the
 * request signal, and the relay would read on until its idle watchdog.)
 *
 * The relay always ends, so usage is always settled: on completion, on an upstream
 * failure, on the client's disconnect (seen through a failed write, the request signal
 * or a failed upstream read), and, as the last resort when the runtime tears a request
 * down without saying so, when the upstream has been silent for idleTimeoutMs.
 */
export function relaySse(upstream: ReadableStreamDefaultReader<Uint8Array>, options: RelayOptions): Relay {
  const meter = new UsageMeter();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let finish!: (result: RelayResult) => void;
  const done = new Promise<RelayResult>((resolve) => (finish = resolve));
  let ended = false;
  let lastChunkAt = Date.now();
  const { readable, writable } = new IdentityTransformStream();
  const client = writable.getWriter();
  const ignore = (): void => {};

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
    // When the client is already gone these fail: nothing left to tell it.
    if (closing) client.write(encoder.encode(closing)).catch(ignore);
    client.close().catch(ignore);
  };
  const stopUpstream = (reason: unknown): void => {
    options.abortUpstream(reason);
    upstream.cancel(reason).catch(ignore);
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

  const pass = async (chunk: Uint8Array): Promise<void> => {
    const written = client.write(chunk);
    observe(chunk);
    await written;
  };
  const pump = async (): Promise<void> => {
    try {
      if (options.firstChunk) await pass(options.firstChunk);
      while (!ended) {
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
        await pass(result.value);
      }
    } catch (error) {
      // A write failed: the client has disconnected.
      clientGone(error);
    }
  };
  void pump();
  return { body: readable, done };
}

function errorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}

/**
 * `body` as a stream the runtime pumps to the client itself, for a Response whose body
 * JavaScript transforms (a different wire format): a disconnect fails the pipe's next
 * write, which cancels `body` and, through it, the relay. Handed to the Response
 * directly, a JavaScript stream is not reliably cancelled (see relaySse).
 */
export function disconnectAware(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream();
  body.pipeTo(writable).catch(() => {});
  return readable;
}
