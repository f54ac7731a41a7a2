import { BaseAnthropic } from "@anthropic-ai/sdk/client";
import { Messages } from "@anthropic-ai/sdk/resources/messages/messages";
import type { GatewayConfig } from "../config/env.js";

/**
 * The official SDK's client with only the Messages resource attached: the full
 * client pulls in every API resource and weighs about 60 KB more (gzip) in the bundle.
 */
export class UpstreamClient extends BaseAnthropic {
  messages = new Messages(this);
}

let cached: { key: string; client: UpstreamClient } | null = null;

/** One SDK client per isolate and upstream; retries are the gateway's decision, not the SDK's. */
export function upstreamClient(config: GatewayConfig): UpstreamClient {
  const key = `${config.upstreamBaseUrl}\n${config.upstreamApiKey}`;
  if (cached?.key !== key) {
    cached = {
      key,
      client: new UpstreamClient({
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
