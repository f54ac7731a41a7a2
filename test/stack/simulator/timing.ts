import type { Directives } from "./directives.js";
import type { TimingProfile } from "./profiles.js";
import { timeToFirstTokenMs } from "./profiles.js";

const SLOW_FIRST_FACTOR = 10;

/** When each part of an answer is due, on the `performance.now()` clock. */
export interface TokenSchedule {
  /** Response headers (and message_start, ping) go out at this time. */
  respondAt: number;
  /** Due time of output token `index` (0-based); content deltas are written at these times. */
  tokenDueAt(index: number): number;
}

export interface ScheduleInput {
  receivedAt: number;
  /** Network delay before headers and first token; not scaled. */
  extraLatencyMs: number;
  timeScale: number;
  profile: TimingProfile;
  /** Input tokens not read from the prompt cache: they lengthen time to first token. */
  uncachedInputTokens: number;
  directives: Directives;
}

/**
 * Absolute target times for every token (respondAt + scaled TTFT + index x scaled
 * interval), so a late timer never delays the tokens after it.
 */
export function tokenSchedule(input: ScheduleInput): TokenSchedule {
  const { directives, profile, timeScale } = input;
  const ttftMs =
    directives.ttftMs ??
    timeToFirstTokenMs(profile, input.uncachedInputTokens) * (directives.fault === "slow-first" ? SLOW_FIRST_FACTOR : 1);
  const intervalMs = 1000 / (directives.tokensPerSecond ?? profile.outputTokensPerSecond);
  const respondAt = input.receivedAt + input.extraLatencyMs;
  const firstTokenAt = respondAt + ttftMs * timeScale;
  return {
    respondAt,
    tokenDueAt: (index) => firstTokenAt + index * intervalMs * timeScale,
  };
}
