import type { RequestLogLine } from "./workers/request-logs.js";

/**
 * One readable line for a gateway's request log line (shared/observability/request-log.ts,
 * functions/gateway/pipeline/metered-log.ts), for `npm start` in a terminal:
 *
 *   12:04:31 POST /v1/messages 200 completed  tenant dev  us-east  auto -> claude-sonnet-4-6 (standard)
 *            12 in / 45 out tokens  ttft 512 ms  total 1.23 s  $0.000711  egr_...
 *
 * Only the fields the line has are shown, so lines of any route, and fields added
 * later, never break it (the JSON line has everything).
 */
export function summarizeRequest(line: RequestLogLine): string {
  const text = (name: string): string | null => {
    const value = line[name];
    return typeof value === "string" && value !== "" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : null;
  };
  const number = (name: string): number | null => (typeof line[name] === "number" ? (line[name] as number) : null);
  const parts: string[] = [];
  const add = (part: string | null): void => {
    if (part) parts.push(part);
  };

  add(text("ts")?.slice(11, 19) ?? null);
  add([text("method"), text("path"), text("status")].filter(Boolean).join(" ") || null);
  add(text("outcome") ?? text("error_type"));
  add(text("tenant_id") && `tenant ${text("tenant_id")}`);
  add(text("region"));
  add(model(text("model_requested"), text("model"), text("tier")));
  add(tokens(number("input_tokens"), number("output_tokens"), number("cache_read_input_tokens"), number("cache_creation_input_tokens"), line.usage_estimated === true));
  add(number("ttft_ms") === null ? null : `ttft ${milliseconds(number("ttft_ms")!)}`);
  add(number("total_ms") === null ? null : `total ${milliseconds(number("total_ms")!)}`);
  add(number("cost_usd") === null ? null : `$${number("cost_usd")!.toFixed(6)}`);
  add((number("attempts") ?? 0) > 1 ? text("attempt_outcomes") : null);
  add(line.request_id);
  return parts.join("  ");
}

function model(requested: string | null, served: string | null, tier: string | null): string | null {
  const name = requested && served && requested !== served ? `${requested} -> ${served}` : (served ?? requested);
  if (!name) return null;
  return tier ? `${name} (${tier})` : name;
}

function tokens(input: number | null, output: number | null, cacheRead: number | null, cacheWrite: number | null, estimated: boolean): string | null {
  if (input === null && output === null) return null;
  const cache = [cacheRead ? `${cacheRead} cache read` : "", cacheWrite ? `${cacheWrite} cache write` : ""].filter(Boolean);
  return `${input ?? 0} in / ${output ?? 0} out tokens${cache.length ? ` (${cache.join(", ")})` : ""}${estimated ? " (estimated)" : ""}`;
}

function milliseconds(ms: number): string {
  return ms >= 1_000 ? `${(ms / 1_000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
