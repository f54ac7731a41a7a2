import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { type ArrivedEvent, SseClock } from "./sse-clock.js";

/**
 * The bench's load generator: node:http with one keep-alive Agent shared by every
 * endpoint, closed-loop workers, and per-request timestamps on the performance.now()
 * clock of this process (the same clock as the simulator's ledger and the bridge's
 * arrivals, which run in-process).
 */
export const LOAD_GENERATOR = "custom closed-loop client on node:http (keep-alive Agent), timestamps from performance.now()";

const MESSAGES_PATH = "/v1/messages";
/** Sent with every request, as the official SDKs do (the simulator, like the API, requires one). */
const ANTHROPIC_VERSION = "2023-06-01";

export interface Endpoint {
  /** Label in the report: "gateway", "miniflare", "passthrough", "direct". */
  name: string;
  /** e.g. http://127.0.0.1:8787 */
  origin: string;
  /** Sent with every request (the key the endpoint expects). */
  headers: Record<string, string>;
  /** Where requests go, and what they carry, when not /v1/messages and the run's body. */
  path?: string;
  body?: Buffer;
}

/** One streamed request as the client saw it. Times are performance.now() milliseconds; NaN when it never happened. */
export interface Exchange {
  endpoint: string;
  /** HTTP status; 0 when the request failed without one. */
  status: number;
  /** Just before the request (headers and body) was handed to the socket. */
  sentAt: number;
  headersAt: number;
  firstByteAt: number;
  /** The first complete `content_block_delta` event. */
  firstDeltaAt: number;
  endAt: number;
  headers: IncomingHttpHeaders;
  events: ArrivedEvent[];
  /** A failed request: what went wrong (socket error, or the start of a non-200 body). */
  error: string | null;
  /** Sent again once because a kept-alive socket turned out closed before any answer (times are the retry's). */
  retriedStaleSocket: boolean;
}

const ERROR_TEXT_CHARS = 80;

/** "<type>: <message>" of an Anthropic-style error body, else its start (never its request id, so failures group). */
function describeErrorBody(text: string): string {
  try {
    const { error } = JSON.parse(text) as { error?: { type?: unknown; message?: unknown } };
    if (error) return `${String(error.type)}: ${String(error.message).slice(0, ERROR_TEXT_CHARS)}`;
  } catch {
    // not JSON
  }
  return text.slice(0, ERROR_TEXT_CHARS);
}

const REQUEST_TIMEOUT_MS = 30_000;

export class LoadClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: "lifo" });

  /**
   * POSTs `body` to `endpoint` + `path` and reads the whole response. Never rejects.
   * A request lost on a reused keep-alive socket before any answer (the server closed
   * it meanwhile: Node's documented keep-alive race) is sent again once.
   */
  async post(endpoint: Endpoint, path: string, body: Buffer): Promise<Exchange> {
    const first = await this.#attempt(endpoint, path, body);
    if (!first.lostOnReusedSocket) return first.exchange;
    const { exchange } = await this.#attempt(endpoint, path, body);
    exchange.retriedStaleSocket = true;
    return exchange;
  }

  #attempt(endpoint: Endpoint, path: string, body: Buffer): Promise<{ exchange: Exchange; lostOnReusedSocket: boolean }> {
    const url = new URL(path, endpoint.origin);
    const exchange: Exchange = {
      endpoint: endpoint.name,
      status: 0,
      sentAt: Number.NaN,
      headersAt: Number.NaN,
      firstByteAt: Number.NaN,
      firstDeltaAt: Number.NaN,
      endAt: Number.NaN,
      headers: {},
      events: [],
      error: null,
      retriedStaleSocket: false,
    };
    return new Promise((resolve) => {
      const finish = (error: string | null): void => {
        exchange.endAt = performance.now();
        exchange.error ??= error;
        resolve({ exchange, lostOnReusedSocket: error !== null && exchange.status === 0 && req.reusedSocket });
      };
      const req = request(
        {
          agent: this.#agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: "POST",
          headers: { "anthropic-version": ANTHROPIC_VERSION, ...endpoint.headers, "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          exchange.headersAt = performance.now();
          exchange.status = res.statusCode ?? 0;
          exchange.headers = res.headers;
          const decoder = new StringDecoder("utf8");
          const clock = new SseClock();
          res.on("data", (chunk: Buffer) => {
            const at = performance.now();
            if (Number.isNaN(exchange.firstByteAt)) exchange.firstByteAt = at;
            clock.feed(decoder.write(chunk), at);
            if (Number.isNaN(exchange.firstDeltaAt)) {
              exchange.firstDeltaAt = clock.events.find((event) => event.type === "content_block_delta")?.at ?? Number.NaN;
            }
          });
          let text = "";
          if (exchange.status !== 200) res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
          res.on("end", () => {
            exchange.events = clock.events;
            finish(exchange.status === 200 ? null : `HTTP ${exchange.status} ${describeErrorBody(text)}`);
          });
          res.on("error", (error) => finish(error.message));
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", (error) => finish(error.message));
      exchange.sentAt = performance.now();
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface InterleavedRun {
  exchanges: Exchange[];
  startedAt: number;
  endedAt: number;
}

/**
 * Closed loop: `concurrency` workers share one queue of `perEndpoint` x endpoints
 * requests; request k goes to endpoint k mod n, so the endpoints alternate in issue
 * order and every endpoint sees the same machine noise.
 */
export async function runInterleaved(
  client: LoadClient,
  endpoints: readonly Endpoint[],
  body: Buffer,
  options: { concurrency: number; perEndpoint: number },
): Promise<InterleavedRun> {
  const total = options.perEndpoint * endpoints.length;
  const exchanges: Exchange[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const endpoint = endpoints[next++ % endpoints.length] as Endpoint;
      exchanges.push(await client.post(endpoint, endpoint.path ?? MESSAGES_PATH, endpoint.body ?? body));
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { exchanges, startedAt, endedAt: performance.now() };
}

/**
 * Open loop: every endpoint gets `ratePerSecond` requests a second for `perEndpoint`
 * requests, sent on schedule whether or not earlier ones have answered (as independent
 * clients do); the endpoints' requests are spread evenly between each other's.
 */
export async function runPaced(
  client: LoadClient,
  endpoints: readonly Endpoint[],
  body: Buffer,
  options: { ratePerSecond: number; perEndpoint: number },
): Promise<InterleavedRun> {
  const spacingMs = 1000 / options.ratePerSecond / endpoints.length;
  const startedAt = performance.now();
  const sending: Array<Promise<Exchange>> = [];
  for (let k = 0; k < options.perEndpoint * endpoints.length; k++) {
    const wait = startedAt + k * spacingMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const endpoint = endpoints[k % endpoints.length] as Endpoint;
    sending.push(client.post(endpoint, endpoint.path ?? MESSAGES_PATH, endpoint.body ?? body));
  }
  const exchanges = await Promise.all(sending);
  return { exchanges, startedAt, endedAt: performance.now() };
}

/** `n` requests at once per endpoint, so the Agent holds enough warm connections for the next run. */
export async function warmUp(client: LoadClient, endpoints: readonly Endpoint[], body: Buffer, n: number): Promise<void> {
  await Promise.all(
    endpoints.flatMap((endpoint) =>
      Array.from({ length: n }, () => client.post(endpoint, endpoint.path ?? MESSAGES_PATH, endpoint.body ?? body)),
    ),
  );
}

/** A Messages request body the simulator answers according to `directives` (e.g. "sim:ttft=0 sim:tokens=2"). */
export function streamingBody(directives: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      stream: true,
      messages: [{ role: "user", content: `${directives} Benchmark request.` }],
    }),
  );
}

export function header(exchange: Exchange, name: string): string | null {
  const value = exchange.headers[name];
  return typeof value === "string" ? value : null;
}
