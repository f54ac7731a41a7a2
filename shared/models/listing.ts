import type { PriceTable } from "../pricing/cost.js";
import type { ModelPolicy } from "../tenants/model.js";
import { AUTO_MODEL } from "../routing/policy.js";
import { KNOWN_MODELS, type ModelInfo, modelInfo } from "./catalog.js";

/** A model the operator priced that the catalog does not describe: no release date is known. */
const UNKNOWN_DATE = "1970-01-01T00:00:00Z";

/**
 * The models a tenant may call, newest first, after `auto` (the gateway's router): the
 * catalog's models the gateway can price, or only those the tenant's policy allows.
 */
export function tenantModels(policy: ModelPolicy, prices: PriceTable): ModelInfo[] {
  const names = policy.allowedModels ?? [...KNOWN_MODELS, ...prices.models()];
  const byId = new Map<string, ModelInfo>();
  for (const name of names) {
    if (!prices.priceOf(name)) continue;
    const info = modelInfo(name) ?? { id: name, displayName: name, createdAt: UNKNOWN_DATE };
    byId.set(info.id, info);
  }
  const models = [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  const newest = models[0]?.createdAt ?? UNKNOWN_DATE;
  return [{ id: AUTO_MODEL, displayName: "Automatic (edgegate picks the model for each request)", createdAt: newest }, ...models];
}

/** The tenant's model with this id or alias, or null. */
export function findModel(models: readonly ModelInfo[], id: string): ModelInfo | null {
  const canonical = modelInfo(id)?.id ?? id;
  return models.find((model) => model.id === canonical) ?? null;
}

export interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  created_at: string;
}

export function anthropicModel(info: ModelInfo): AnthropicModel {
  return { type: "model", id: info.id, display_name: info.displayName, created_at: info.createdAt };
}

export interface AnthropicModelPage {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** One page of the Models API's list: `limit` (1-1000, default 20) after `after_id` or before `before_id`. */
export function anthropicModelPage(models: readonly ModelInfo[], query: { limit?: string; after_id?: string; before_id?: string }): AnthropicModelPage {
  const limit = Math.min(1000, Math.max(1, Number.parseInt(query.limit ?? "20", 10) || 20));
  let start = 0;
  let end = models.length;
  if (query.after_id) start = models.findIndex((model) => model.id === query.after_id) + 1;
  if (query.before_id) end = Math.max(0, models.findIndex((model) => model.id === query.before_id));
  const before = Boolean(query.before_id) && !query.after_id;
  const window = models.slice(start, end);
  const page = before ? window.slice(-limit) : window.slice(0, limit);
  const data = page.map(anthropicModel);
  return { data, has_more: window.length > page.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export function openAIModel(info: ModelInfo): OpenAIModel {
  return { id: info.id, object: "model", created: Math.floor(Date.parse(info.createdAt) / 1000), owned_by: info.id === AUTO_MODEL ? "edgegate" : "anthropic" };
}
