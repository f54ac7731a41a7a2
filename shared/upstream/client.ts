import { BaseAnthropic } from "@anthropic-ai/sdk/client";
import { Messages } from "@anthropic-ai/sdk/resources/messages/messages";
import type { GatewayConfig } from "../config/env.js";
import { KeyPool } from "./key-pool.js";

/**
 * The official SDK's client with only the Messages resource attached: the full
 * client pulls in every API resource and weighs about 60 KB more (gzip) in the bundle.
 */
export class UpstreamClient extends BaseAnthropic {
  messages = new Messages(this);
}

export interface Upstream {
  pool: KeyPool;
  /** The SDK client of one provider key of the pool. */
  clientFor(keyIndex: number): UpstreamClient;
}

let cached: { config: GatewayConfig; upstream: Upstream } | null = null;

/** The key pool and one SDK client per key, per isolate; retries are the gateway's decision, not the SDK's. */
export function upstream(config: GatewayConfig): Upstream {
  if (cached?.config !== config) {
    const clients = config.upstreamApiKeys.map(
      (apiKey) =>
        new UpstreamClient({ apiKey, baseURL: config.upstreamBaseUrl, maxRetries: 0, timeout: config.upstreamTimeoutMs }),
    );
    cached = { config, upstream: { pool: new KeyPool(config.upstreamApiKeys), clientFor: (index) => clients[index]! } };
  }
  return cached.upstream;
}

/** Client headers that change the upstream's behaviour and are safe to forward. */
const FORWARDED_HEADERS = ["anthropic-beta"] as const;

export function forwardedHeaders(incoming: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = incoming.get(name);
    if (value) headers[name] = value;
  }
  return headers;
}
