import type { AnthropicErrorType } from "../http/errors.js";
import { sseErrorEvent } from "../providers/anthropic-errors.js";
import { type MeteredResponse, UsageMeter } from "../metering/usage.js";
import { type SseEvent, SseParser } from "../sse/parser.js";

export type RelayEnding = "completed" | "client_disconnected" | "upstream_failed" | "idle_timeout" | "first_token_timeout" | "upstream_timeout";

/** Why the gateway itself stopped an answer. */
type Stop = "idle_timeout" | "first_token_timeout" | "upstream_timeout";

export interface RelayResult {
  ending: RelayEnding;
  metered: MeteredResponse;
  /** performance.now() when the upstream side ended. */
  endedAt: number;
}

export interface Relay {
  /** The client's stream; null when the answer is only collected (a non-streamed call). */
  body: ReadableStream<Uint8Array> | null;
  /** Resolves once the answer has ended, however it ended. Never rejects. */
  done: Promise<RelayResult>;
}

/** An upstream SSE answer whose first chunk was read to learn that it started. */
export interface UpstreamStream {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  firstChunk: Uint8Array | undefined;
}

export interface RelayOptions {
  /** False to read and meter the answer without streaming it (a non-streamed call, answered at the end). */
  toClient: boolean;
  abortUpstream: (reason: unknown) => void;
  /** The client request's signal: aborts when the client disconnects. */
  clientSignal: AbortSignal;
  /** Longest silence allowed between upstream chunks before the stream is ended. */
  idleTimeoutMs: number;
  /** Date.now() by which the first token must have arrived, else the stream is ended. */
  firstTokenDeadline: number;
  /** Date.now() by which the whole answer must have arrived (non-streamed calls), else it is ended. */
  deadlineAt?: number;
  /** Sees every upstream event as it is metered (e.g. to record a widget's answer). */
  observe?: (event: SseEvent) => void;
  /** Text appended to the client's stream after a complete answer (e.g. a widget's signature event). */
  trailer?: (result: RelayResult) => Promise<string | null>;
}

const encoder = new TextEncoder();
/** Bytes the client may leave unread before it counts as gone (a client that stops reading must not fill the isolate's memory). */
const CLIENT_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * Relays an upstream SSE answer byte for byte, reading the upstream as fast as it sends,
 * whatever the client does: each chunk is handed to the runtime's own stream for the
 * client first (never awaited, so a slow client cannot hold the meter back), then
 * metered. What the upstream produced is billed even if the client reads slowly or leaves.
 *
 * It always ends, so usage is always settled: on completion (then the optional trailer);
 * on the client's disconnect (seen through the request signal or a failed write), which
 * aborts the upstream; on an upstream failure, and when the upstream stays silent past
 * the idle timeout or sends no token by the first-token deadline (the upstream is then
 * aborted): in those cases the client's stream ends with an Anthropic `error` event, never
 * a silent close that would look like a complete answer.
 */
export function relaySse(stream: UpstreamStream, options: RelayOptions): Relay {
  const meter = new UsageMeter();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const client = options.toClient ? new IdentityTransformStream() : null;
  const writer = client?.writable.getWriter() ?? null;
  let stoppedFor: Stop | null = null;
  let clientLeft = false;
  let lastChunkAt = Date.now();
  let backlog = 0;

  /**
   * The client is gone: what the upstream has already sent is read (and billed), then the
   * upstream is aborted, as soon as a read would make the meter wait and at the latest
   * ALREADY_SENT_MS after the client left (an upstream that sends faster than that never
   * makes it wait), so that no token generated after the client left is paid for.
   */
  const leave = (): void => {
    if (clientLeft) return;
    clientLeft = true;
    setTimeout(() => options.abortUpstream(new Error("client disconnected")), ALREADY_SENT_MS);
  };
  const stop = (reason: Stop): void => {
    if (stoppedFor || clientLeft) return;
    stoppedFor = reason;
    options.abortUpstream(new Error(reason));
  };
  const deliver = (bytes: Uint8Array): void => {
    if (!writer || clientLeft) return;
    backlog += bytes.byteLength;
    if (backlog > CLIENT_BACKLOG_BYTES) return leave();
    writer.write(bytes).then(() => (backlog -= bytes.byteLength), leave);
  };
  const observe = (chunk: Uint8Array): void => {
    lastChunkAt = Date.now();
    const now = performance.now();
    for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) {
      meter.observe(event, now);
      options.observe?.(event);
    }
  };
  options.clientSignal.addEventListener("abort", leave, { once: true });
  const watchdog = setInterval(
    () => {
      const now = Date.now();
      if (options.deadlineAt !== undefined && now >= options.deadlineAt) stop("upstream_timeout");
      else if (!meter.sawFirstToken && now >= options.firstTokenDeadline) stop("first_token_timeout");
      else if (now - lastChunkAt >= options.idleTimeoutMs) stop("idle_timeout");
    },
    Math.min(1_000, options.idleTimeoutMs),
  );

  const done = (async (): Promise<RelayResult> => {
    let failed = false;
    try {
      if (stream.firstChunk) {
        deliver(stream.firstChunk);
        observe(stream.firstChunk);
      }
      for (;;) {
        const { done: ended, value } = clientLeft ? await readBuffered(stream.reader, options.abortUpstream) : await stream.reader.read();
        if (ended) break;
        deliver(value);
        observe(value);
      }
    } catch {
      failed = true;
    } finally {
      clearInterval(watchdog);
      options.clientSignal.removeEventListener("abort", leave);
    }
    for (const event of parser.end()) {
      meter.observe(event, performance.now());
      options.observe?.(event);
    }
    const metered = meter.result();
    const endedAt = performance.now();
    // An answer is whole when it ended as the protocol says: message_stop, or an error event the upstream sent.
    const whole = !failed && (metered.completed || metered.upstreamError !== null);
    const ending: RelayEnding = stoppedFor ?? (clientLeft ? "client_disconnected" : whole ? "completed" : "upstream_failed");
    const result: RelayResult = { ending, metered, endedAt };
    if (writer && !clientLeft) {
      const closing = ending === "completed" ? await trailerOf(result) : errorEvent(stoppedFor);
      if (closing) deliver(encoder.encode(closing));
      // Not awaited: a client that stops reading must not hold the settlement back.
      writer.close().catch(leave);
    }
    return { ...result, ending: stoppedFor ?? (clientLeft ? "client_disconnected" : ending) };
  })();
  return { body: client?.readable ?? null, done };

  /** A trailer that fails is left out: the answer itself is complete and must be settled. */
  async function trailerOf(result: RelayResult): Promise<string | null> {
    try {
      return (await options.trailer?.(result)) ?? null;
    } catch {
      return null;
    }
  }
}

/** How long a read may take after the client left and still count as data the upstream had already sent. */
const ALREADY_SENT_MS = 5;

/** The next chunk if it is already here (or nearly); otherwise the upstream is aborted and the read ends. */
async function readBuffered(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  abortUpstream: (reason: unknown) => void,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const waiting = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ALREADY_SENT_MS);
  });
  const read = reader.read();
  const result = await Promise.race([read, waiting]);
  if (timer !== null) clearTimeout(timer);
  if (result) return result;
  abortUpstream(new Error("client disconnected"));
  read.catch(() => {});
  return { done: true, value: undefined };
}

function errorEvent(stoppedFor: Stop | null): string {
  const [type, message]: [AnthropicErrorType, string] =
    stoppedFor === "first_token_timeout"
      ? ["timeout_error", "The upstream sent no token in time; retry, or shorten the prompt."]
      : stoppedFor === "idle_timeout"
        ? ["timeout_error", "The upstream stopped sending mid-answer; retry."]
        : stoppedFor === "upstream_timeout"
          ? ["timeout_error", "The answer did not finish in time; retry, or ask for fewer tokens."]
          : ["api_error", "The upstream connection was lost mid-stream; retry."];
  return sseErrorEvent(type, message);
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
