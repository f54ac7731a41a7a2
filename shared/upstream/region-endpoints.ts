import { anthropicProvider } from "../providers/anthropic.js";
import { bedrockProvider } from "../providers/bedrock/provider.js";
import { type ProviderEntry, ProviderConfigError, parseProviderChain } from "../providers/chain-config.js";
import { providerGeography } from "../providers/geography.js";
import { vertexProvider } from "../providers/vertex/provider.js";
import type { Endpoint } from "./endpoint-pool.js";

/** What a region's chain is built from: its configuration and its secrets. */
export interface ChainSettings {
  /** The UPSTREAM_CHAIN JSON; null for the Anthropic API alone. */
  chain: string | null;
  /** ANTHROPIC_API_KEY's keys, for the chain's Anthropic entry. */
  anthropicApiKeys: readonly string[];
  /** Default base URL of the Anthropic entry (UPSTREAM_BASE_URL). */
  anthropicBaseUrl: string;
}

/** Regional endpoints of Bedrock and Vertex cost about 10% more than their global ones. */
const REGIONAL_PREMIUM = 1.1;

/**
 * The region's endpoints in chain order, each with its geography and price: one per key
 * for the Anthropic API (a key pool), one for each Bedrock or Vertex entry. Throws
 * ProviderConfigError naming what is wrong, never a secret's value.
 */
export function regionEndpoints(settings: ChainSettings, secrets: Readonly<Record<string, unknown>>): Endpoint[] {
  const entries: ProviderEntry[] = settings.chain ? parseProviderChain(settings.chain, secrets) : [{ kind: "anthropic" }];
  return entries.flatMap((entry, rank): Endpoint[] => {
    const geography = providerGeography(entry);
    const priceBasisPoints = Math.round((entry.priceMultiplier ?? defaultMultiplier(entry, geography)) * 10_000);
    const endpoint = (provider: Endpoint["provider"]): Endpoint => ({ provider, rank, geography, priceBasisPoints });
    switch (entry.kind) {
      case "anthropic": {
        if (settings.anthropicApiKeys.length === 0) {
          throw new ProviderConfigError(`provider ${rank} (anthropic): set the ANTHROPIC_API_KEY secret (one key, or several comma-separated)`);
        }
        const baseUrl = entry.baseUrl ?? settings.anthropicBaseUrl;
        return settings.anthropicApiKeys.map((apiKey) => endpoint(anthropicProvider({ baseUrl, apiKey })));
      }
      case "bedrock": {
        const { kind: _kind, priceMultiplier: _price, ...config } = entry;
        return [endpoint(bedrockProvider(config))];
      }
      case "vertex": {
        const { kind: _kind, priceMultiplier: _price, ...config } = entry;
        return [endpoint(vertexProvider(config))];
      }
    }
  });
}

function defaultMultiplier(entry: ProviderEntry, geography: string): number {
  return entry.kind !== "anthropic" && geography !== "global" ? REGIONAL_PREMIUM : 1;
}
