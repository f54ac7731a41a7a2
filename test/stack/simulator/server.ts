import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { receiveAnthropicCount, receiveAnthropicMessages } from "./anthropic-api.js";
import { anthropicDialect } from "./anthropic-dialect.js";
import { BEDROCK_PATH, receiveBedrockCount, receiveBedrockMessages } from "./bedrock-api.js";
import { bedrockDialect } from "./bedrock-dialect.js";
import { serveControlRoute } from "./control-routes.js";
import { handleCountTokens } from "./count-tokens-handler.js";
import {
  type AwsCredentials,
  type ServiceAccountKeyFile,
  generateAwsCredentials,
  generateServiceAccount,
  knownCredentials,
} from "./credentials.js";
import type { Dialect } from "./dialect.js";
import { ApiError } from "./errors.js";
import { type Exchange, openExchange, respondWithError } from "./exchange.js";
import { AccessTokens, serveTokenRequest } from "./google-oauth.js";
import { sendJson } from "./http-io.js";
import { Ledger } from "./ledger.js";
import { handleMessages } from "./messages-handler.js";
import { PromptCache } from "./prompt-cache.js";
import { RateLimitWindow } from "./rate-limits.js";
import type { SimulatorState } from "./state.js";
import { VERTEX_PATH, receiveVertexCount, receiveVertexMessages } from "./vertex-api.js";
import { vertexDialect } from "./vertex-dialect.js";

export type { AwsCredentials, ServiceAccountKeyFile } from "./credentials.js";

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Multiplies every simulated delay: 1 real time (default), 0.01 100x faster, 0 no delay. */
  timeScale?: number;
  /** When set, `x-api-key` must be one of these, else 401. */
  apiKeys?: string[];
  /** Network delay before the response headers and the first token, in ms; not scaled. */
  extraLatencyMs?: number;
  /** AWS credentials the Bedrock endpoints accept; default one generated pair (see `credentials`). */
  awsCredentials?: AwsCredentials[];
  /** Service accounts the token endpoint accepts; default one generated account (see `credentials`). */
  gcpServiceAccounts?: ServiceAccountKeyFile[];
  /** Lifetime of the Vertex access tokens the token endpoint issues, in real seconds. Default 3599, as Google's. */
  vertexTokenLifetimeSeconds?: number;
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:8790`: the Anthropic SDK's and the Bedrock SDK's `baseURL`. */
  url: string;
  /** The Vertex SDK's `baseURL` (`<url>/v1`). */
  vertexUrl: string;
  /** The Google token endpoint to send service-account assertions to (`<url>/token`). */
  tokenUrl: string;
  port: number;
  ledger: Ledger;
  /** Credentials the cloud endpoints accept: the first AWS pair and service account configured (or generated). */
  credentials: { aws: AwsCredentials; gcpServiceAccount: ServiceAccountKeyFile };
  /** Vertex access tokens issued so far. */
  accessTokensIssued(): number;
  /** Starts (or, with null, ends) an outage: every Messages request fails up front with that status. */
  setOutage(fault: "429" | "500" | "529" | null): void;
  /** Stops listening and drops open connections (stalled streams included). */
  close(): Promise<void>;
}

type Handler = (exchange: Exchange, state: SimulatorState) => Promise<void>;

const ANTHROPIC_ROUTES: ReadonlyMap<string, Handler> = new Map([
  ["POST /v1/messages", (exchange, state) => handleMessages(exchange, state, receiveAnthropicMessages)],
  ["POST /v1/messages/count_tokens", (exchange, state) => handleCountTokens(exchange, state, receiveAnthropicCount)],
]);

const BEDROCK_ACTIONS: Readonly<Record<string, Handler>> = {
  invoke: (exchange, state) => handleMessages(exchange, state, receiveBedrockMessages(false)),
  "invoke-with-response-stream": (exchange, state) => handleMessages(exchange, state, receiveBedrockMessages(true)),
  "count-tokens": (exchange, state) => handleCountTokens(exchange, state, receiveBedrockCount),
};

async function serveModelRequest(
  request: IncomingMessage,
  response: ServerResponse,
  state: SimulatorState,
  dialect: Dialect,
  handler: Handler | undefined,
): Promise<void> {
  const exchange = openExchange(request, response, dialect);
  try {
    if (handler === undefined) throw new ApiError("not_found_error", "Not Found");
    await handler(exchange, state);
  } catch (error) {
    await respondWithError(exchange, error, state.settings.extraLatencyMs);
  }
}

/** The handler of a model route in one of the three formats, with its dialect; null for other paths. */
function modelRoute(method: string, path: string, state: SimulatorState): { dialect: Dialect; handler: Handler | undefined } | null {
  const bedrock = BEDROCK_PATH.exec(path);
  if (bedrock !== null) return { dialect: state.dialects.bedrock, handler: method === "POST" ? BEDROCK_ACTIONS[bedrock[2] ?? ""] : undefined };
  const vertex = VERTEX_PATH.exec(path);
  if (vertex !== null) {
    const countTokens = vertex[3] === "count-tokens";
    const handler: Handler = countTokens
      ? (exchange, shared) => handleCountTokens(exchange, shared, receiveVertexCount)
      : (exchange, shared) => handleMessages(exchange, shared, receiveVertexMessages);
    return { dialect: state.dialects.vertex, handler: method === "POST" && (!countTokens || vertex[4] === "rawPredict") ? handler : undefined };
  }
  if (path.startsWith("/v1/")) return { dialect: state.dialects.anthropic, handler: ANTHROPIC_ROUTES.get(`${method} ${path}`) };
  return null;
}

async function serve(request: IncomingMessage, response: ServerResponse, state: SimulatorState): Promise<void> {
  const method = request.method ?? "GET";
  const path = new URL(request.url ?? "/", "http://simulator").pathname;
  if (serveControlRoute(method, path, response, state)) return;
  if (method === "POST" && path === "/token") {
    return serveTokenRequest(request, response, state.credentials.serviceAccounts, state.accessTokens);
  }
  const route = modelRoute(method, path, state);
  if (route !== null) return serveModelRequest(request, response, state, route.dialect, route.handler);
  sendJson(response, 404, { error: `no route ${method} ${path}` });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const awsCredentials = options.awsCredentials ?? [generateAwsCredentials()];
  const serviceAccounts = options.gcpServiceAccounts ?? [await generateServiceAccount()];
  const [aws, gcpServiceAccount] = [awsCredentials[0], serviceAccounts[0]];
  if (aws === undefined || gcpServiceAccount === undefined) throw new Error("the simulator needs at least one AWS credential and one service account");
  const rateLimits = new RateLimitWindow();
  const state: SimulatorState = {
    settings: {
      timeScale: options.timeScale ?? 1,
      extraLatencyMs: options.extraLatencyMs ?? 0,
      apiKeys: options.apiKeys === undefined ? null : new Set(options.apiKeys),
      outage: null,
    },
    ledger: new Ledger(),
    promptCaches: { anthropic: new PromptCache(), bedrock: new PromptCache(), vertex: new PromptCache() },
    rateLimits,
    faultStrikes: new Map(),
    dialects: { anthropic: anthropicDialect(rateLimits), bedrock: bedrockDialect(), vertex: vertexDialect() },
    credentials: knownCredentials(awsCredentials, serviceAccounts),
    accessTokens: new AccessTokens(options.vertexTokenLifetimeSeconds ?? 3599),
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
  const url = `http://${host}:${port}`;

  return {
    url,
    vertexUrl: `${url}/v1`,
    tokenUrl: `${url}/token`,
    port,
    ledger: state.ledger,
    credentials: { aws, gcpServiceAccount },
    accessTokensIssued: () => state.accessTokens.issued,
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
