import type { TokenUsage } from "../metering/usage.js";
import type { ModelPrice } from "./prices.js";

export interface PriceTable {
  /** The price of a model; unknown models are priced as the most expensive known one. */
  priceOf(model: string): ModelPrice;
  /** The most expensive model in the table, used for "what it would have cost" and worst cases. */
  strongest: { model: string; price: ModelPrice };
}

export function priceTable(prices: Readonly<Record<string, ModelPrice>>): PriceTable {
  const entries = Object.entries(prices);
  if (entries.length === 0) throw new Error("The price table is empty.");
  let strongest = entries[0]!;
  for (const entry of entries) if (entry[1].output > strongest[1].output) strongest = entry;
  const byModel = new Map(entries);
  return {
    priceOf: (model) => byModel.get(model) ?? byModel.get(withoutDateSuffix(model)) ?? strongest[1],
    strongest: { model: strongest[0], price: strongest[1] },
  };
}

/** `claude-sonnet-4-5-20250929` is priced as `claude-sonnet-4-5`. */
function withoutDateSuffix(model: string): string {
  return model.replace(/-\d{8}$/, "");
}

export interface BilledUsage extends TokenUsage {
  /** Part of cacheCreationInputTokens written with the 1-hour TTL (priced higher). */
  cacheCreation1hInputTokens?: number;
}

/**
 * Cost in integer micro-dollars. A price in USD per million tokens is exactly the
 * cost in micro-dollars per token, so each part is tokens x price, rounded up.
 */
export function costMicroUsd(usage: BilledUsage, price: ModelPrice): number {
  const oneHour = Math.min(usage.cacheCreation1hInputTokens ?? 0, usage.cacheCreationInputTokens);
  const fiveMinute = usage.cacheCreationInputTokens - oneHour;
  return (
    microUsd(usage.inputTokens, price.input) +
    microUsd(usage.outputTokens, price.output) +
    microUsd(fiveMinute, price.cacheWrite5m) +
    microUsd(oneHour, price.cacheWrite1h) +
    microUsd(usage.cacheReadInputTokens, price.cacheRead)
  );
}

function microUsd(tokens: number, usdPerMillion: number): number {
  return tokens > 0 ? Math.ceil(tokens * usdPerMillion - 1e-9) : 0;
}

/**
 * The most a request can cost: every input token priced at the dearest input rate
 * (a 1-hour cache write) and every allowed output token at the output rate.
 */
export function worstCaseCostMicroUsd(inputTokensUpperBound: number, maxTokens: number, price: ModelPrice): number {
  const inputRate = Math.max(price.input, price.cacheWrite5m, price.cacheWrite1h);
  return microUsd(inputTokensUpperBound, inputRate) + microUsd(maxTokens, price.output);
}
