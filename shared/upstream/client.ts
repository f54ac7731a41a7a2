import Anthropic from "@anthropic-ai/sdk";
import type { GatewayConfig } from "../config/env.js";

let cached: { key: string; client: Anthropic } | null = null;

/** One SDK client per isolate and upstream; retries are the gateway's decision, not the SDK's. */
export function upstreamClient(config: GatewayConfig): Anthropic {
  const key = `${config.upstreamBaseUrl}\n${config.upstreamApiKey}`;
  if (cached?.key !== key) {
    cached = {
      key,
      client: new Anthropic({
        apiKey: config.upstreamApiKey,
        baseURL: config.upstreamBaseUrl,
        maxRetries: 0,
        timeout: config.upstreamTimeoutMs,
      }),
    };
  }
  return cached.client;
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
