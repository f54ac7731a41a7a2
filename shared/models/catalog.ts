/**
 * One Claude model as each provider names it. `anthropic` is the id the Anthropic API
 * reports in its answers (the dated snapshot for models before the 4.6 generation), so
 * it is also what Bedrock and Vertex answers are rewritten to.
 */
export interface ModelNames {
  anthropic: string;
  /** Base Bedrock model id, without a cross-region inference profile prefix. */
  bedrock: string;
  vertex: string;
}

interface ModelEntry extends ModelNames {
  /** Other names edgegate accepts for the model: the API's aliases and short forms. */
  aliases: readonly string[];
  /** As the Models API shows it. */
  displayName: string;
  /** Release date (the snapshot's date where the id carries one), as the Models API shows it. */
  createdAt: string;
}

/**
 * From the providers' model tables (platform.claude.com "Model IDs and versions": from the
 * 4.6 generation on, Bedrock ids are `anthropic.<api id>` (Opus 4.6 keeps a `-v1` suffix)
 * and Vertex ids equal the API's; before it, Bedrock ids are `anthropic.<dated id>-v1:0`
 * and Vertex ids put the date after an `@`).
 */
const MODELS: readonly ModelEntry[] = [
  {
    anthropic: "claude-opus-4-7",
    aliases: [],
    displayName: "Claude Opus 4.7",
    createdAt: "2026-04-16T00:00:00Z",
    bedrock: "anthropic.claude-opus-4-7",
    vertex: "claude-opus-4-7",
  },
  {
    anthropic: "claude-opus-4-6",
    aliases: [],
    displayName: "Claude Opus 4.6",
    createdAt: "2026-02-05T00:00:00Z",
    bedrock: "anthropic.claude-opus-4-6-v1",
    vertex: "claude-opus-4-6",
  },
  {
    anthropic: "claude-opus-4-5-20251101",
    aliases: ["claude-opus-4-5"],
    displayName: "Claude Opus 4.5",
    createdAt: "2025-11-01T00:00:00Z",
    bedrock: "anthropic.claude-opus-4-5-20251101-v1:0",
    vertex: "claude-opus-4-5@20251101",
  },
  {
    anthropic: "claude-opus-4-1-20250805",
    aliases: ["claude-opus-4-1"],
    displayName: "Claude Opus 4.1",
    createdAt: "2025-08-05T00:00:00Z",
    bedrock: "anthropic.claude-opus-4-1-20250805-v1:0",
    vertex: "claude-opus-4-1@20250805",
  },
  {
    anthropic: "claude-opus-4-20250514",
    aliases: ["claude-opus-4-0", "claude-opus-4"],
    displayName: "Claude Opus 4",
    createdAt: "2025-05-14T00:00:00Z",
    bedrock: "anthropic.claude-opus-4-20250514-v1:0",
    vertex: "claude-opus-4@20250514",
  },
  {
    anthropic: "claude-sonnet-4-6",
    aliases: [],
    displayName: "Claude Sonnet 4.6",
    createdAt: "2026-02-17T00:00:00Z",
    bedrock: "anthropic.claude-sonnet-4-6",
    vertex: "claude-sonnet-4-6",
  },
  {
    anthropic: "claude-sonnet-4-5-20250929",
    aliases: ["claude-sonnet-4-5"],
    displayName: "Claude Sonnet 4.5",
    createdAt: "2025-09-29T00:00:00Z",
    bedrock: "anthropic.claude-sonnet-4-5-20250929-v1:0",
    vertex: "claude-sonnet-4-5@20250929",
  },
  {
    anthropic: "claude-sonnet-4-20250514",
    aliases: ["claude-sonnet-4-0", "claude-sonnet-4"],
    displayName: "Claude Sonnet 4",
    createdAt: "2025-05-14T00:00:00Z",
    bedrock: "anthropic.claude-sonnet-4-20250514-v1:0",
    vertex: "claude-sonnet-4@20250514",
  },
  {
    anthropic: "claude-haiku-4-5-20251001",
    aliases: ["claude-haiku-4-5"],
    displayName: "Claude Haiku 4.5",
    createdAt: "2025-10-01T00:00:00Z",
    bedrock: "anthropic.claude-haiku-4-5-20251001-v1:0",
    vertex: "claude-haiku-4-5@20251001",
  },
  {
    anthropic: "claude-3-7-sonnet-20250219",
    aliases: ["claude-3-7-sonnet-latest", "claude-3-7-sonnet"],
    displayName: "Claude Sonnet 3.7",
    createdAt: "2025-02-19T00:00:00Z",
    bedrock: "anthropic.claude-3-7-sonnet-20250219-v1:0",
    vertex: "claude-3-7-sonnet@20250219",
  },
  {
    anthropic: "claude-3-5-haiku-20241022",
    aliases: ["claude-3-5-haiku-latest", "claude-3-5-haiku"],
    displayName: "Claude Haiku 3.5",
    createdAt: "2024-10-22T00:00:00Z",
    bedrock: "anthropic.claude-3-5-haiku-20241022-v1:0",
    vertex: "claude-3-5-haiku@20241022",
  },
  {
    anthropic: "claude-3-haiku-20240307",
    aliases: ["claude-3-haiku"],
    displayName: "Claude Haiku 3",
    createdAt: "2024-03-07T00:00:00Z",
    bedrock: "anthropic.claude-3-haiku-20240307-v1:0",
    vertex: "claude-3-haiku@20240307",
  },
];

const BY_NAME: ReadonlyMap<string, ModelEntry> = new Map(
  MODELS.flatMap((entry) => [entry.anthropic, ...entry.aliases].map((name): [string, ModelEntry] => [name, entry])),
);

/** Every model id edgegate knows, aliases included. */
export const KNOWN_MODELS: readonly string[] = [...BY_NAME.keys()];

/** The providers' names of one of edgegate's model ids (an API id or alias), or null when unknown. */
export function modelNames(model: string): ModelNames | null {
  const entry = BY_NAME.get(model);
  return entry ? { anthropic: entry.anthropic, bedrock: entry.bedrock, vertex: entry.vertex } : null;
}

/**
 * The id an answer reports: what the Anthropic API would say for this request. Unknown
 * models (ones an operator mapped through a provider's `models` override) keep their name.
 */
export function answerModelId(model: string): string {
  return BY_NAME.get(model)?.anthropic ?? model;
}

/** Per-endpoint changes to the model map: a provider id, or null where the endpoint does not serve the model. */
export type ModelOverrides = Readonly<Record<string, string | null>>;

/** Resolves a model for one provider: the override if there is one, else the map's name. */
export function providerModelId(model: string, provider: "bedrock" | "vertex", overrides: ModelOverrides): string | null {
  if (Object.hasOwn(overrides, model)) return overrides[model] ?? null;
  return BY_NAME.get(model)?.[provider] ?? null;
}

/** A model as the Models API describes it. */
export interface ModelInfo {
  id: string;
  displayName: string;
  createdAt: string;
}

/** The model behind an id or alias, as the Models API describes it, or null when edgegate does not know it. */
export function modelInfo(model: string): ModelInfo | null {
  const entry = BY_NAME.get(model);
  return entry ? { id: entry.anthropic, displayName: entry.displayName, createdAt: entry.createdAt } : null;
}
