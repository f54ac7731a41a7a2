/**
 * Known models and their timing profiles, from published latency comparisons
 * (see /work/shared/REFERENCE.md). Time to first token starts at `ttftShortMs`
 * and grows by `ttftMsPerInputToken` per uncached input token, up to `ttftLongMs`.
 */
export interface TimingProfile {
  ttftShortMs: number;
  ttftLongMs: number;
  ttftMsPerInputToken: number;
  outputTokensPerSecond: number;
}

export interface ModelSpec {
  /** The id reported in responses: aliases resolve to their dated snapshot, as the real API does. */
  id: string;
  /** The model's id in Bedrock's catalogue (without an inference profile prefix) and in Vertex AI's Model Garden. */
  bedrockId: string;
  vertexId: string;
  timing: TimingProfile;
  /** Shortest prefix (in estimated tokens) that prompt caching will store. */
  minCacheableTokens: number;
}

const OPUS: TimingProfile = { ttftShortMs: 800, ttftLongMs: 2000, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 70 };
const OPUS_4_0: TimingProfile = { ...OPUS, outputTokensPerSecond: 35 };
const SONNET: TimingProfile = { ttftShortMs: 500, ttftLongMs: 900, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 100 };
const HAIKU: TimingProfile = { ttftShortMs: 300, ttftLongMs: 600, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 150 };

/** Cloud ids follow the providers' published schemes: dateless ids from the 4.6 generation on, dated ones before. */
function spec(id: string, cloudIds: { bedrock: string; vertex: string }, timing: TimingProfile, minCacheableTokens = 1024): ModelSpec {
  return { id, bedrockId: cloudIds.bedrock, vertexId: cloudIds.vertex, timing, minCacheableTokens };
}

/** Pre-4.6 models: `anthropic.<id>-v1:0` on Bedrock, `<name>@<date>` on Vertex. */
function dated(id: string): { bedrock: string; vertex: string } {
  return { bedrock: `anthropic.${id}-v1:0`, vertex: id.replace(/-(\d{8})$/, "@$1") };
}

const opus47 = spec("claude-opus-4-7", { bedrock: "anthropic.claude-opus-4-7", vertex: "claude-opus-4-7" }, OPUS);
const opus46 = spec("claude-opus-4-6", { bedrock: "anthropic.claude-opus-4-6-v1", vertex: "claude-opus-4-6" }, OPUS);
const opus45 = spec("claude-opus-4-5-20251101", dated("claude-opus-4-5-20251101"), OPUS);
const opus41 = spec("claude-opus-4-1-20250805", dated("claude-opus-4-1-20250805"), OPUS_4_0);
const opus40 = spec("claude-opus-4-20250514", dated("claude-opus-4-20250514"), OPUS_4_0);
const sonnet46 = spec("claude-sonnet-4-6", { bedrock: "anthropic.claude-sonnet-4-6", vertex: "claude-sonnet-4-6" }, SONNET);
const sonnet45 = spec("claude-sonnet-4-5-20250929", dated("claude-sonnet-4-5-20250929"), SONNET);
const sonnet40 = spec("claude-sonnet-4-20250514", dated("claude-sonnet-4-20250514"), SONNET);
const haiku45 = spec("claude-haiku-4-5-20251001", dated("claude-haiku-4-5-20251001"), HAIKU, 2048);
const sonnet37 = spec("claude-3-7-sonnet-20250219", dated("claude-3-7-sonnet-20250219"), SONNET);
const haiku35 = spec("claude-3-5-haiku-20241022", dated("claude-3-5-haiku-20241022"), HAIKU, 2048);
const haiku30 = spec("claude-3-haiku-20240307", dated("claude-3-haiku-20240307"), HAIKU, 2048);

const MODELS: ReadonlyMap<string, ModelSpec> = new Map([
  ["claude-opus-4-7", opus47],
  ["claude-opus-4-6", opus46],
  ["claude-opus-4-5", opus45],
  ["claude-opus-4-5-20251101", opus45],
  ["claude-opus-4-1", opus41],
  ["claude-opus-4-1-20250805", opus41],
  ["claude-opus-4-0", opus40],
  ["claude-opus-4-20250514", opus40],
  ["claude-sonnet-4-6", sonnet46],
  ["claude-sonnet-4-5", sonnet45],
  ["claude-sonnet-4-5-20250929", sonnet45],
  ["claude-sonnet-4-0", sonnet40],
  ["claude-sonnet-4-20250514", sonnet40],
  ["claude-haiku-4-5", haiku45],
  ["claude-haiku-4-5-20251001", haiku45],
  ["claude-3-7-sonnet-latest", sonnet37],
  ["claude-3-7-sonnet-20250219", sonnet37],
  ["claude-3-5-haiku-latest", haiku35],
  ["claude-3-5-haiku-20241022", haiku35],
  ["claude-3-haiku-20240307", haiku30],
]);

const SPECS = [...new Set(MODELS.values())];
const BY_BEDROCK_ID: ReadonlyMap<string, ModelSpec> = new Map(SPECS.map((model) => [model.bedrockId, model]));
const BY_VERTEX_ID: ReadonlyMap<string, ModelSpec> = new Map(SPECS.map((model) => [model.vertexId, model]));

export function findModel(requestedModel: string): ModelSpec | undefined {
  return MODELS.get(requestedModel);
}

/** A Bedrock base model id (no inference profile prefix). */
export function findBedrockModel(modelId: string): ModelSpec | undefined {
  return BY_BEDROCK_ID.get(modelId);
}

export function findVertexModel(modelId: string): ModelSpec | undefined {
  return BY_VERTEX_ID.get(modelId);
}

export function timeToFirstTokenMs(profile: TimingProfile, uncachedInputTokens: number): number {
  return Math.min(profile.ttftShortMs + profile.ttftMsPerInputToken * uncachedInputTokens, profile.ttftLongMs);
}
