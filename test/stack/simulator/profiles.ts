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
  timing: TimingProfile;
  /** Shortest prefix (in estimated tokens) that prompt caching will store. */
  minCacheableTokens: number;
}

const OPUS: TimingProfile = { ttftShortMs: 800, ttftLongMs: 2000, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 70 };
const OPUS_4_0: TimingProfile = { ...OPUS, outputTokensPerSecond: 35 };
const SONNET: TimingProfile = { ttftShortMs: 500, ttftLongMs: 900, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 100 };
const HAIKU: TimingProfile = { ttftShortMs: 300, ttftLongMs: 600, ttftMsPerInputToken: 0.4, outputTokensPerSecond: 150 };

function spec(id: string, timing: TimingProfile, minCacheableTokens = 1024): ModelSpec {
  return { id, timing, minCacheableTokens };
}

const opus47 = spec("claude-opus-4-7", OPUS);
const opus46 = spec("claude-opus-4-6", OPUS);
const opus45 = spec("claude-opus-4-5-20251101", OPUS);
const opus41 = spec("claude-opus-4-1-20250805", OPUS_4_0);
const opus40 = spec("claude-opus-4-20250514", OPUS_4_0);
const sonnet46 = spec("claude-sonnet-4-6", SONNET);
const sonnet45 = spec("claude-sonnet-4-5-20250929", SONNET);
const sonnet40 = spec("claude-sonnet-4-20250514", SONNET);
const haiku45 = spec("claude-haiku-4-5-20251001", HAIKU, 2048);

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
]);

export function findModel(requestedModel: string): ModelSpec | undefined {
  return MODELS.get(requestedModel);
}

export function timeToFirstTokenMs(profile: TimingProfile, uncachedInputTokens: number): number {
  return Math.min(profile.ttftShortMs + profile.ttftMsPerInputToken * uncachedInputTokens, profile.ttftLongMs);
}
