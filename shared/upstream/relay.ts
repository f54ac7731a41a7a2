import { type MeteredResponse, UsageMeter } from "../metering/usage.js";
import { type SseEvent, SseParser } from "../sse/parser.js";

export type RelayEnding = "completed" | "client_disconnected" | "upstream_failed" | "idle_timeout" | "first_token_timeout";

export interface RelayResult {
  ending: RelayEnding;
  metered: MeteredResponse;
  /** performance.now() when the upstream side ended. */
  endedAt: number;
}

export interface Relay {
  body: ReadableStream<Uint8Array>;
  /** Resolves once both sides have ended, however they ended. Never rejects. */
  done: Promise<RelayResult>;
}

/** An upstream SSE response split in two (`tee()`): one branch for the client, one for the meter. */
export interface TeedStream {
  /** The client's branch, handed to the runtime untouched. */
  clientBody: ReadableStream<Uint8Array>;
  /** The meter's branch, and the chunk already read from it to learn that the stream started. */
  meterReader: ReadableStreamDefaultReader<Uint8Array>;
  firstChunk: Uint8Array | undefined;
}

export interface RelayOptions {
  abortUpstream: (reason: unknown) => void;
  /** The client request's signal: aborts when the client disconnects. */
  clientSignal: AbortSignal;
  /** Longest silence allowed between upstream chunks before the stream is ended. */
  idleTimeoutMs: number;
  /** Date.now() by which the first token must have arrived, else the stream is ended. */
  firstTokenDeadline: number;
  /** Sees every upstream event as it is metered (e.g. to record a widget's answer). */
  observe?: (event: SseEvent) => void;
  /** Text appended to the client's stream after a complete answer (e.g. a widget's signature event). */
  trailer?: (result: RelayResult) => Promise<string | null>;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream SSE answer without JavaScript on the client's path: the client's
 * branch of the tee is piped by the runtime into the response, while the meter reads the
 * other branch as fast as the upstream sends, whatever the client does, so what the
 * upstream produced is billed even if the client reads slowly or leaves.
 *
 * It always ends, so usage is always settled: on completion; on an upstream failure
 * (the client gets an Anthropic `error` event); on the client's disconnect (seen through
 * the request signal or a failed write), which aborts the upstream; and when the
 * upstream stays silent past the idle timeout or sends no token by the first-token
 * deadline (the upstream is aborted and the client told why).
 */
export function relaySse(stream: TeedStream, options: RelayOptions): Relay {
  const meter = new UsageMeter();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let stoppedFor: "idle_timeout" | "first_token_timeout" | null = null;
  let clientLeft = false;
  let lastChunkAt = Date.now();

  const leave = (): void => {
    if (clientLeft) return;
    clientLeft = true;
    options.abortUpstream(new Error("client disconnected"));
  };
  const stop = (reason: "idle_timeout" | "first_token_timeout"): void => {
    if (stoppedFor || clientLeft) return;
    stoppedFor = reason;
    options.abortUpstream(new Error(reason));
  };
  const onClientAbort = (): void => leave();
  options.clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const watchdog = setInterval(
    () => {
      const now = Date.now();
      if (!meter.sawFirstToken && now >= options.firstTokenDeadline) stop("first_token_timeout");
      else if (now - lastChunkAt >= options.idleTimeoutMs) stop("idle_timeout");
    },
    Math.min(1_000, options.idleTimeoutMs),
  );

  const observe = (chunk: Uint8Array): void => {
    lastChunkAt = Date.now();
    const now = performance.now();
    for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) {
      meter.observe(event, now);
      options.observe?.(event);
    }
  };
  const metering = (async (): Promise<"completed" | "upstream_failed"> => {
    try {
      if (stream.firstChunk) observe(stream.firstChunk);
      for (;;) {
        const { done, value } = await stream.meterReader.read();
        if (done) return "completed";
        observe(value);
      }
    } catch {
      return "upstream_failed";
    } finally {
      for (const event of parser.end()) meter.observe(event, performance.now());
      clearInterval(watchdog);
      options.clientSignal.removeEventListener("abort", onClientAbort);
    }
  })();
  /** What the upstream side saw; the final ending also knows whether the client stayed to the end. */
  const upstreamSide = metering.then(
    (upstreamEnding): RelayResult => ({ ending: stoppedFor ?? upstreamEnding, metered: meter.result(), endedAt: performance.now() }),
  );

  const { readable, writable } = new IdentityTransformStream();
  const delivering = (async (): Promise<void> => {
    let cut = false;
    try {
      await stream.clientBody.pipeTo(writable, { preventClose: true, preventAbort: true });
    } catch {
      cut = true;
    }
    const writer = writable.getWriter();
    try {
      // An upstream cut off mid-stream: tell the client why (if it is gone, the write fails).
      const closing = cut ? errorEvent(stoppedFor) : await trailerOf(await upstreamSide);
      if (closing) await writer.write(encoder.encode(closing));
      await writer.close();
    } catch {
      leave();
    }
  })();
  const done = Promise.all([upstreamSide, delivering]).then(
    ([relayed]): RelayResult => ({ ...relayed, ending: stoppedFor ?? (clientLeft ? "client_disconnected" : relayed.ending) }),
  );
  return { body: readable, done };

  function trailerOf(relayed: RelayResult): Promise<string | null> {
    return relayed.ending === "completed" && options.trailer ? options.trailer(relayed) : Promise.resolve(null);
  }
}

function errorEvent(stoppedFor: "idle_timeout" | "first_token_timeout" | null): string {
  const [type, message] =
    stoppedFor === "first_token_timeout"
      ? ["timeout_error", "The upstream sent no token in time; retry, or shorten the prompt."]
      : stoppedFor === "idle_timeout"
        ? ["timeout_error", "The upstream stopped sending mid-answer; retry."]
        : ["api_error", "The upstream connection was lost mid-stream; retry."];
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}
