import { DEFAULT_THRESHOLDS, type Tier } from "../classify/index.js";
import { DEFAULT_LEASE_TUNING, type LeaseTuning } from "../ledger/leases.js";
import type { UsageSpool } from "../ledger/usage-spool.js";
import { type OperatorAlertDefaults, parseThresholds, parseWebhookUrl } from "../metrics/alerts/settings.js";
import type { FirstTokenTuning } from "../metrics/recent-first-tokens.js";
import { DEFAULT_PRICES, type ModelPrice } from "../pricing/prices.js";
import type { FeatureConfig } from "../request-policy/features.js";
import type { BodyLimits } from "../http/body.js";
import { ANTHROPIC_VERSIONS, type VersionPolicy } from "../http/anthropic-version.js";
import type { RoutingDefaults } from "../routing/policy.js";
import type { RedisConnection } from "../storage/redis.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../upstream/backoff.js";
import * as z from "zod/mini";
import { parseJsonSetting } from "./json-setting.js";

const price = z.number().check(z.minimum(0));
const tokenPrices = { input: price, output: price, cacheWrite5m: price, cacheWrite1h: price, cacheRead: price };
const modelPricesSchema = z.record(
  z.string(),
  z.strictObject({
    ...tokenPrices,
    longContext: z.optional(z.strictObject({ ...tokenPrices, aboveInputTokens: z.int().check(z.positive()) })),
  }),
);

/**
 * Everything a regional gateway reads from its environment: `[vars]` in
 * wrangler.toml and secrets (`wrangler secret put`, or `.dev.vars` locally).
 * Each is documented, with its default, in the README's configuration table.
 */
export interface GatewayEnv {
  /** Secret: the provider key(s) the gateway calls Anthropic with; several, comma-separated, form a pool. */
  ANTHROPIC_API_KEY?: string;
  /** Base URL of the Anthropic API (the local simulator in development). */
  UPSTREAM_BASE_URL?: string;
  /** JSON: the region's ordered chain of upstream endpoints (the Anthropic API, Bedrock, Vertex AI); unset, the Anthropic API alone. */
  UPSTREAM_CHAIN?: string;
  /** Longest a non-streamed request may take upstream, headers and body (ms); streams use the first-token and idle timeouts. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** Longest silence between upstream stream events before the gateway ends the stream: ms, or per tier "light:30000,deep:120000". */
  STREAM_IDLE_TIMEOUT_MS?: string;
  /** Time-to-first-token limit, ms or per tier: before the first byte the attempt is retried, after it the stream ends with an error event. */
  FIRST_TOKEN_TIMEOUT_MS?: string;
  /** Retries before the first byte: total deadline, first backoff ceiling, largest backoff. */
  RETRY_DEADLINE_MS?: string;
  RETRY_BASE_DELAY_MS?: string;
  RETRY_MAX_DELAY_MS?: string;
  /** Overloaded (529) answers from one model before falling back to the next tier's model. */
  OVERLOADED_BEFORE_FALLBACK?: string;
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES?: string;
  /** Longest time a client may take to send its request body, in ms. */
  BODY_TIMEOUT_MS?: string;
  /** Region id this deployment serves, reported in headers and logs. */
  REGION?: string;
  /** Longest wait for storage on the hot path before the tenant's fail-open/fail-closed choice applies. */
  STORAGE_TIMEOUT_MS?: string;
  /** Upstash Redis REST endpoint and token of the primary database (tenants, keys, budgets, usage). */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** Upstash Redis REST endpoint and token of this region's own database (hot-path counters); unset, the primary decides every request. */
  REGION_REDIS_REST_URL?: string;
  REGION_REDIS_REST_TOKEN?: string;
  /** Leases and credits: the oldest replica of keys and tenants used (ms), the overshoot bound of shared rate limits (share), the headroom divisor of budget leases. */
  REPLICA_MAX_AGE_MS?: string;
  RATE_OVERSHOOT_SHARE?: string;
  LEASE_HEADROOM_DIVISOR?: string;
  /** Durable Object namespace holding settlements that could not be written yet. */
  USAGE_SPOOL?: DurableObjectNamespace<UsageSpool>;
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
  /** Comma-separated anthropic-beta values accepted beyond the ones the gateway knows (their costs must be only tokens). */
  ALLOWED_BETAS?: string;
  /** Comma-separated top-level Messages fields accepted beyond the ones the gateway knows. */
  ALLOWED_REQUEST_FIELDS?: string;
  /** Comma-separated anthropic-version values relayed (default: the API's own list). */
  ANTHROPIC_VERSIONS?: string;
  /** The anthropic-version used for clients that send none; unset, such requests are refused as the API refuses them. */
  DEFAULT_ANTHROPIC_VERSION?: string;
  /** Secret: signs widget visitor sessions and answers, and keys the hashes of client networks in limit counters. */
  GATEWAY_SECRET?: string;
  /** Cloudflare Turnstile's siteverify endpoint (a local stand-in in development). */
  TURNSTILE_VERIFY_URL?: string;
  /** Secret: the operator's alert webhook (Slack incoming webhook or any receiver of its JSON); unset, operator alerts need one set by the admin API. */
  ALERT_WEBHOOK_URL?: string;
  /** JSON: alert thresholds over the defaults, e.g. {"errorRate":0.05,"windowMinutes":10} (README: Alerts). */
  ALERT_THRESHOLDS?: string;
  /** SLO-aware routing: the recent window of the p95 time to first token (minutes), how often an isolate re-reads the region's figures (ms), and the fewest first tokens that tell. */
  SLO_WINDOW_MINUTES?: string;
  SLO_REFRESH_MS?: string;
  SLO_MIN_SAMPLES?: string;
}

export type PerTier = Record<Tier, number>;

export interface GatewayConfig {
  upstreamApiKeys: string[];
  upstreamBaseUrl: string;
  upstreamChain: string | null;
  upstreamTimeoutMs: number;
  streamIdleTimeoutMs: PerTier;
  firstTokenTimeoutMs: PerTier;
  retry: RetryPolicy;
  /** Largest request body, and the longest a client may take to send it. */
  body: BodyLimits;
  region: string;
  storageTimeoutMs: number;
  redis: RedisConnection;
  /** The region's own database, or null. */
  regionRedis: RedisConnection | null;
  leases: LeaseTuning;
  adminToken: string;
  defaultLimits: { requestsPerMinute: number; tokensPerMinute: number };
  prices: Record<string, ModelPrice>;
  features: FeatureConfig;
  anthropicVersions: VersionPolicy;
  routing: RoutingDefaults;
  turnstileVerifyUrl: string;
  gatewaySecret: string;
  alerts: OperatorAlertDefaults;
  firstTokens: FirstTokenTuning;
}

export const DEFAULTS = {
  upstreamBaseUrl: "https://api.anthropic.com",
  upstreamTimeoutMs: 600_000,
  streamIdleTimeoutMs: { light: 60_000, standard: 60_000, deep: 120_000 } as PerTier,
  firstTokenTimeoutMs: { light: 15_000, standard: 30_000, deep: 60_000 } as PerTier,
  maxBodyBytes: 10 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  region: "local",
  storageTimeoutMs: 2_000,
  requestsPerMinute: 600,
  tokensPerMinute: 2_000_000,
  tierModels: { light: "claude-haiku-4-5", standard: "claude-sonnet-4-6", deep: "claude-opus-4-7" },
  turnstileVerifyUrl: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
  firstTokens: { windowMinutes: 5, refreshMs: 15_000, minSamples: 20 },
} as const;

/**
 * No HTTP request to a database outlives this many storage timeouts, nor 10 s (a short
 * hot-path timeout must not cut the background's, the dashboard's or the admin API's reads).
 */
const STORAGE_REQUEST_TIMEOUT_FACTOR = 5;
const MIN_STORAGE_REQUEST_TIMEOUT_MS = 10_000;

const cache = new WeakMap<GatewayEnv, GatewayConfig>();

/** Parses the environment once per isolate (env objects are stable per deployment). */
export function gatewayConfig(env: GatewayEnv): GatewayConfig {
  let config = cache.get(env);
  if (!config) {
    const storageTimeoutMs = positiveInt(env.STORAGE_TIMEOUT_MS, DEFAULTS.storageTimeoutMs);
    // Background work (drains, top-ups, syncs) may take several storage timeouts; no single request more.
    const storageRequestTimeoutMs = Math.max(STORAGE_REQUEST_TIMEOUT_FACTOR * storageTimeoutMs, MIN_STORAGE_REQUEST_TIMEOUT_MS);
    config = {
      upstreamApiKeys: (env.ANTHROPIC_API_KEY ?? "").split(",").map((key) => key.trim()).filter(Boolean),
      upstreamBaseUrl: (env.UPSTREAM_BASE_URL || DEFAULTS.upstreamBaseUrl).replace(/\/+$/, ""),
      upstreamChain: env.UPSTREAM_CHAIN?.trim() || null,
      upstreamTimeoutMs: positiveInt(env.UPSTREAM_TIMEOUT_MS, DEFAULTS.upstreamTimeoutMs),
      streamIdleTimeoutMs: perTier(env.STREAM_IDLE_TIMEOUT_MS, DEFAULTS.streamIdleTimeoutMs),
      firstTokenTimeoutMs: perTier(env.FIRST_TOKEN_TIMEOUT_MS, DEFAULTS.firstTokenTimeoutMs),
      retry: {
        deadlineMs: positiveInt(env.RETRY_DEADLINE_MS, DEFAULT_RETRY_POLICY.deadlineMs),
        baseDelayMs: positiveInt(env.RETRY_BASE_DELAY_MS, DEFAULT_RETRY_POLICY.baseDelayMs),
        maxDelayMs: positiveInt(env.RETRY_MAX_DELAY_MS, DEFAULT_RETRY_POLICY.maxDelayMs),
        overloadedBeforeFallback: positiveInt(env.OVERLOADED_BEFORE_FALLBACK, DEFAULT_RETRY_POLICY.overloadedBeforeFallback),
      },
      body: {
        maxBytes: positiveInt(env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes),
        timeoutMs: positiveInt(env.BODY_TIMEOUT_MS, DEFAULTS.bodyTimeoutMs),
      },
      region: env.REGION || DEFAULTS.region,
      storageTimeoutMs,
      redis: { url: env.UPSTASH_REDIS_REST_URL ?? "", token: env.UPSTASH_REDIS_REST_TOKEN ?? "", requestTimeoutMs: storageRequestTimeoutMs },
      regionRedis: env.REGION_REDIS_REST_URL
        ? { url: env.REGION_REDIS_REST_URL, token: env.REGION_REDIS_REST_TOKEN ?? "", requestTimeoutMs: storageRequestTimeoutMs }
        : null,
      leases: {
        ...DEFAULT_LEASE_TUNING,
        replicaMaxAgeMs: positiveInt(env.REPLICA_MAX_AGE_MS, DEFAULT_LEASE_TUNING.replicaMaxAgeMs),
        replicaRefreshMs: Math.min(
          DEFAULT_LEASE_TUNING.replicaRefreshMs,
          Math.floor(0.4 * positiveInt(env.REPLICA_MAX_AGE_MS, DEFAULT_LEASE_TUNING.replicaMaxAgeMs)),
        ),
        rateOvershootShare: unitInterval(env.RATE_OVERSHOOT_SHARE, DEFAULT_LEASE_TUNING.rateOvershootShare),
        leaseHeadroomDivisor: positiveInt(env.LEASE_HEADROOM_DIVISOR, DEFAULT_LEASE_TUNING.leaseHeadroomDivisor),
      },
      adminToken: env.ADMIN_TOKEN ?? "",
      defaultLimits: {
        requestsPerMinute: positiveInt(env.DEFAULT_REQUESTS_PER_MINUTE, DEFAULTS.requestsPerMinute),
        tokensPerMinute: positiveInt(env.DEFAULT_TOKENS_PER_MINUTE, DEFAULTS.tokensPerMinute),
      },
      prices: { ...DEFAULT_PRICES, ...parsePrices(env.PRICING_JSON) },
      features: { extraBetas: commaSet(env.ALLOWED_BETAS), extraFields: commaSet(env.ALLOWED_REQUEST_FIELDS) },
      anthropicVersions: {
        accepted: env.ANTHROPIC_VERSIONS ? commaSet(env.ANTHROPIC_VERSIONS) : new Set(ANTHROPIC_VERSIONS),
        fallback: env.DEFAULT_ANTHROPIC_VERSION || null,
      },
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
      turnstileVerifyUrl: env.TURNSTILE_VERIFY_URL || DEFAULTS.turnstileVerifyUrl,
      gatewaySecret: env.GATEWAY_SECRET ?? "",
      alerts: { webhookUrl: parseWebhookUrl(env.ALERT_WEBHOOK_URL), thresholds: parseThresholds(env.ALERT_THRESHOLDS) },
      firstTokens: {
        windowMinutes: positiveInt(env.SLO_WINDOW_MINUTES, DEFAULTS.firstTokens.windowMinutes),
        refreshMs: positiveInt(env.SLO_REFRESH_MS, DEFAULTS.firstTokens.refreshMs),
        minSamples: positiveInt(env.SLO_MIN_SAMPLES, DEFAULTS.firstTokens.minSamples),
      },
    };
    cache.set(env, config);
  }
  return config;
}

function parsePrices(raw: string | undefined): Record<string, ModelPrice> {
  return raw ? parseJsonSetting("PRICING_JSON", raw, modelPricesSchema, '{"my-model": {"input": 3, "output": 15, "cacheWrite5m": 3.75, "cacheWrite1h": 6, "cacheRead": 0.3}}') : {};
}

function commaSet(raw: string | undefined): Set<string> {
  return new Set((raw ?? "").split(",").map((item) => item.trim()).filter(Boolean));
}

/** "45000" (every tier) or "light:15000,deep:60000" (the tiers named; the rest keep their defaults). */
function perTier(raw: string | undefined, fallback: PerTier): PerTier {
  if (!raw) return fallback;
  const single = Number(raw);
  if (Number.isInteger(single) && single > 0) return { light: single, standard: single, deep: single };
  const result = { ...fallback };
  for (const part of raw.split(",")) {
    const [tier, value] = part.split(":").map((item) => item.trim());
    const ms = Number(value);
    if ((tier === "light" || tier === "standard" || tier === "deep") && Number.isInteger(ms) && ms > 0) result[tier] = ms;
  }
  return result;
}

function unitInterval(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && value >= 0 && value <= 1 ? value : fallback;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}
