import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serveControlRoute } from "./control-routes.js";
import { handleCountTokens } from "./count-tokens-handler.js";
import { ApiError } from "./errors.js";
import type { V1Exchange } from "./exchange.js";
import { openV1Exchange, respondWithError } from "./exchange.js";
import { sendJson } from "./http-io.js";
import { Ledger } from "./ledger.js";
import { handleMessages } from "./messages-handler.js";
import { PromptCache } from "./prompt-cache.js";
import { RateLimitWindow } from "./rate-limits.js";
import type { SimulatorState } from "./state.js";

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Multiplies every simulated delay: 1 real time (default), 0.01 100x faster, 0 no delay. */
  timeScale?: number;
  /** When set, `x-api-key` must be one of these, else 401. */
  apiKeys?: string[];
  /** Network delay before the response headers and the first token, in ms; not scaled. Default 0. */
  extraLatencyMs?: number;
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:8790`: use it as the SDK's `baseURL`. */
  url: string;
  port: number;
  ledger: Ledger;
  /** Starts (or, with null, ends) an outage: every Messages request fails up front with that status. */
  setOutage(fault: "429" | "500" | "529" | null): void;
  /** Stops listening and drops open connections (stalled streams included). */
  close(): Promise<void>;
}

type V1Handler = (exchange: V1Exchange, state: SimulatorState) => Promise<void>;

const V1_ROUTES: ReadonlyMap<string, V1Handler> = new Map([
  ["POST /v1/messages", handleMessages],
  ["POST /v1/messages/count_tokens", handleCountTokens],
]);

async function serveV1(request: IncomingMessage, response: ServerResponse, route: string, state: SimulatorState): Promise<void> {
  const exchange = openV1Exchange(request, response, state.rateLimits);
  const handler = V1_ROUTES.get(route);
  try {
    if (handler === undefined) throw new ApiError("not_found_error", "Not Found");
    await handler(exchange, state);
  } catch (error) {
    await respondWithError(exchange, error, state.settings.extraLatencyMs);
  }
}

async function serve(request: IncomingMessage, response: ServerResponse, state: SimulatorState): Promise<void> {
  const method = request.method ?? "GET";
  const path = new URL(request.url ?? "/", "http://simulator").pathname;
  if (serveControlRoute(method, path, response, state)) return;
  if (path.startsWith("/v1/")) return serveV1(request, response, `${method} ${path}`, state);
  sendJson(response, 404, { error: `no route ${method} ${path}` });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state: SimulatorState = {
    settings: {
      timeScale: options.timeScale ?? 1,
      extraLatencyMs: options.extraLatencyMs ?? 0,
      apiKeys: options.apiKeys === undefined ? null : new Set(options.apiKeys),
      outage: null,
    },
    ledger: new Ledger(),
    promptCache: new PromptCache(),
    rateLimits: new RateLimitWindow(),
    faultStrikes: new Map(),
  };
  const server = createServer({ noDelay: true }, (request, response) => {
    serve(request, response, state).catch((error: unknown) => {
      console.error("simulator: request failed", error);
      response.destroy();
    });
  });
  server.on("connection", (socket) => socket.setNoDelay(true));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    ledger: state.ledger,
    setOutage: (fault) => {
      state.settings.outage = fault;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
