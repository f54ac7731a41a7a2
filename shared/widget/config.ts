import * as z from "zod/mini";
import "../validation/zod.js";
import { TIERS } from "../classify/types.js";
import { GatewayError } from "../http/errors.js";
import { patchSchema } from "../validation/schema-parts.js";
import { isOriginPattern } from "./origins.js";

const positiveInt = (max: number) => z.int().check(z.positive(), z.maximum(max));

const originPattern = z
  .string()
  .check(
    z.refine(isOriginPattern, 'expected a lowercase origin such as "https://shop.example" or "https://*.shop.example" (scheme, host and port only)'),
  );

export const visitorLimitsSchema = z.strictObject({
  /** Messages one visitor (hashed IP + session id) may send per minute. */
  requestsPerMinute: z._default(positiveInt(10_000), 10),
  /** Tokens (input estimate + max_tokens, corrected after the answer) per visitor per minute. */
  tokensPerMinute: z._default(positiveInt(100_000_000), 40_000),
  /** Messages per minute from one network (an IPv4 address, an IPv6 /64) across all its sessions (offices share one). */
  ipRequestsPerMinute: z._default(positiveInt(100_000), 60),
  /** Tokens per minute from one network across all its sessions. */
  ipTokensPerMinute: z._default(positiveInt(100_000_000), 200_000),
  /** New visitor sessions one network may start per minute (each needs the bot check when Turnstile is on). */
  ipSessionsPerMinute: z._default(positiveInt(10_000), 10),
});

export const turnstileSchema = z.strictObject({
  siteKey: z.string().check(z.minLength(1), z.maxLength(200)),
  secretKey: z.string().check(z.minLength(1), z.maxLength(200)),
});

/**
 * What a publishable key's widget may do. Everything that matters is decided here, on
 * the server: the browser sends only the conversation.
 */
export const widgetConfigSchema = z.strictObject({
  /** Origins whose pages may use the key; none means the key works nowhere yet. */
  allowedOrigins: z._default(z.array(originPattern).check(z.maxLength(100)), []),
  /** Sent as the system prompt of every conversation; marked for prompt caching when long enough. */
  systemPrompt: z._default(z.string().check(z.maxLength(200_000)), ""),
  /** "auto" lets the classifier pick the tier; a model id pins one. */
  model: z._default(z.string().check(z.minLength(1), z.maxLength(200)), "auto"),
  /** Highest tier the widget may reach, on top of the tenant's own cap. */
  maxTier: z._default(z.nullable(z.enum(TIERS)), null),
  /** max_tokens of every answer. */
  maxTokens: z._default(positiveInt(64_000), 1024),
  /** Longest conversation (messages) and longest single message (characters) accepted. */
  maxMessages: z._default(positiveInt(500), 40),
  maxMessageChars: z._default(positiveInt(100_000), 4000),
  visitorLimits: z._default(visitorLimitsSchema, () => visitorLimitsSchema.parse({})),
  /** Part of the tenant's daily budget this key may spend (needs a tenant daily budget). */
  dailyBudgetShare: z._default(z.number().check(z.positive(), z.maximum(1)), 0.5),
  /** Cloudflare Turnstile: when set, each visitor session must pass a challenge first. */
  turnstile: z._default(z.nullable(turnstileSchema), null),
  /** Shown in the widget. */
  title: z._default(z.string().check(z.maxLength(100)), "Chat with us"),
  greeting: z._default(z.string().check(z.maxLength(1000)), ""),
});

/** A partial update; `visitorLimits` merges field by field too. */
export const widgetConfigUpdateSchema = z.extend(patchSchema(widgetConfigSchema), {
  visitorLimits: z.optional(patchSchema(visitorLimitsSchema)),
});

export type WidgetConfig = z.infer<typeof widgetConfigSchema>;
export type WidgetConfigUpdate = z.infer<typeof widgetConfigUpdateSchema>;
export type VisitorLimits = z.infer<typeof visitorLimitsSchema>;

/** What the browser may know about its widget: no prompt, no limits' internals, no secrets. */
export interface PublicWidgetConfig {
  title: string;
  greeting: string;
  maxMessageChars: number;
  maxMessages: number;
  turnstileSiteKey: string | null;
}

export function publicWidgetConfig(config: WidgetConfig): PublicWidgetConfig {
  return {
    title: config.title,
    greeting: config.greeting,
    maxMessageChars: config.maxMessageChars,
    maxMessages: config.maxMessages,
    turnstileSiteKey: config.turnstile?.siteKey ?? null,
  };
}

/** Stands for the Turnstile secret in admin answers; sent back in an update, it keeps the stored one. */
export const REDACTED_SECRET = "(set)";

/** The config as operators see it through the admin API: the Turnstile secret stays in storage. */
export function redactedWidgetConfig(config: WidgetConfig): WidgetConfig {
  return config.turnstile ? { ...config, turnstile: { ...config.turnstile, secretKey: REDACTED_SECRET } } : config;
}

/** The key's widget configuration with an update applied field by field. */
export function updatedWidgetConfig(current: WidgetConfig, update: WidgetConfigUpdate): WidgetConfig {
  const { visitorLimits, turnstile, ...fields } = update;
  const keepsSecret = turnstile?.secretKey === REDACTED_SECRET;
  if (keepsSecret && !current.turnstile) {
    throw new GatewayError(
      "invalid_request_error",
      `widget.turnstile.secretKey: send the Turnstile secret key itself ("${REDACTED_SECRET}" keeps a stored one, and there is none).`,
    );
  }
  return {
    ...current,
    ...fields,
    visitorLimits: { ...current.visitorLimits, ...visitorLimits },
    turnstile: turnstile === undefined ? current.turnstile : turnstile && { ...turnstile, secretKey: keepsSecret ? current.turnstile!.secretKey : turnstile.secretKey },
  };
}
