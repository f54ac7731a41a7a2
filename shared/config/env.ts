import { DEFAULT_THRESHOLDS } from "../classify/index.js";
import { DEFAULT_PRICES, type ModelPrice } from "../pricing/prices.js";
import type { RoutingDefaults } from "../routing/policy.js";
import * as z from "zod/mini";
import { describeIssues } from "../validation/zod.js";

const price = z.number().check(z.minimum(0));
const modelPricesSchema = z.record(
  z.string(),
  z.strictObject({ input: price, output: price, cacheWrite5m: price, cacheWrite1h: price, cacheRead: price }),
);

/**
 * Everything a regional gateway reads from its environment: `[vars]` in
 * wrangler.toml and secrets (`wrangler secret put`, or `.dev.vars` locally).
 * Each is documented, with its default, in the README's configuration table.
 */
export interface GatewayEnv {
  /** Secret: the provider key the gateway calls Anthropic with. */
  ANTHROPIC_API_KEY?: string;
  /** Base URL of the Anthropic API (the local simulator in development). */
  UPSTREAM_BASE_URL?: string;
  /** Milliseconds to wait for the upstream's response headers. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** Longest silence between upstream stream events before the gateway ends the stream. */
  STREAM_IDLE_TIMEOUT_MS?: string;
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES?: string;
  /** Region id this deployment serves, reported in headers and logs. */
  REGION?: string;
  /** Upstash Redis REST endpoint and token of this region's database. */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** Secret: bearer token for the /admin API. The admin API is off while it is unset. */
  ADMIN_TOKEN?: string;
  /** Per-minute limits for tenants that set none. */
  DEFAULT_REQUESTS_PER_MINUTE?: string;
  DEFAULT_TOKENS_PER_MINUTE?: string;
  /** Model of each tier, for `model: "auto"` and widget requests. */
  MODEL_LIGHT?: string;
  MODEL_STANDARD?: string;
  MODEL_DEEP?: string;
  /** Classifier scores at which requests move up to the standard and deep tiers. */
  TIER_STANDARD_THRESHOLD?: string;
  TIER_DEEP_THRESHOLD?: string;
  /** JSON object of model -> prices (USD per million tokens), merged over the defaults. */
  PRICING_JSON?: string;
}

export interface GatewayConfig {
  upstreamApiKey: string;
  upstreamBaseUrl: string;
  upstreamTimeoutMs: number;
  streamIdleTimeoutMs: number;
  maxBodyBytes: number;
  region: string;
  redis: { url: string; token: string };
  adminToken: string;
  defaultLimits: { requestsPerMinute: number; tokensPerMinute: number };
  prices: Record<string, ModelPrice>;
  routing: RoutingDefaults;
}

export const DEFAULTS = {
  upstreamBaseUrl: "https://api.anthropic.com",
  upstreamTimeoutMs: 600_000,
  streamIdleTimeoutMs: 60_000,
  maxBodyBytes: 10 * 1024 * 1024,
  region: "local",
  requestsPerMinute: 600,
  tokensPerMinute: 2_000_000,
  tierModels: { light: "claude-haiku-4-5", standard: "claude-sonnet-4-6", deep: "claude-opus-4-7" },
} as const;

const cache = new WeakMap<GatewayEnv, GatewayConfig>();

/** Parses the environment once per isolate (env objects are stable per deployment). */
export function gatewayConfig(env: GatewayEnv): GatewayConfig {
  let config = cache.get(env);
  if (!config) {
    config = {
      upstreamApiKey: env.ANTHROPIC_API_KEY ?? "",
      upstreamBaseUrl: (env.UPSTREAM_BASE_URL || DEFAULTS.upstreamBaseUrl).replace(/\/+$/, ""),
      upstreamTimeoutMs: positiveInt(env.UPSTREAM_TIMEOUT_MS, DEFAULTS.upstreamTimeoutMs),
      streamIdleTimeoutMs: positiveInt(env.STREAM_IDLE_TIMEOUT_MS, DEFAULTS.streamIdleTimeoutMs),
      maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes),
      region: env.REGION || DEFAULTS.region,
      redis: { url: env.UPSTASH_REDIS_REST_URL ?? "", token: env.UPSTASH_REDIS_REST_TOKEN ?? "" },
      adminToken: env.ADMIN_TOKEN ?? "",
      defaultLimits: {
        requestsPerMinute: positiveInt(env.DEFAULT_REQUESTS_PER_MINUTE, DEFAULTS.requestsPerMinute),
        tokensPerMinute: positiveInt(env.DEFAULT_TOKENS_PER_MINUTE, DEFAULTS.tokensPerMinute),
      },
      prices: { ...DEFAULT_PRICES, ...parsePrices(env.PRICING_JSON) },
      routing: {
        tierModels: {
          light: env.MODEL_LIGHT || DEFAULTS.tierModels.light,
          standard: env.MODEL_STANDARD || DEFAULTS.tierModels.standard,
          deep: env.MODEL_DEEP || DEFAULTS.tierModels.deep,
        },
        thresholds: {
          standard: unitInterval(env.TIER_STANDARD_THRESHOLD, DEFAULT_THRESHOLDS.standard),
          deep: unitInterval(env.TIER_DEEP_THRESHOLD, DEFAULT_THRESHOLDS.deep),
        },
      },
    };
    cache.set(env, config);
  }
  return config;
}

function parsePrices(raw: string | undefined): Record<string, ModelPrice> {
  if (!raw) return {};
  const parsed = modelPricesSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`PRICING_JSON is invalid: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

function unitInterval(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && value >= 0 && value <= 1 ? value : fallback;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}
