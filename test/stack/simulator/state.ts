import type { KnownCredentials } from "./credentials.js";
import type { Dialect, DialectName } from "./dialect.js";
import type { AccessTokens } from "./google-oauth.js";
import type { Ledger } from "./ledger.js";
import type { PromptCache } from "./prompt-cache.js";
import type { RateLimitWindow } from "./rate-limits.js";

export interface SimulatorSettings {
  /** When set, every Messages request fails up front with this fault: a whole-upstream outage. */
  outage: "429" | "500" | "529" | null;
  timeScale: number;
  /** Network delay before headers and first token, in ms; not scaled. */
  extraLatencyMs: number;
  /** Accepted `x-api-key` values; null accepts any non-empty key. */
  apiKeys: ReadonlySet<string> | null;
}

/** Everything the request handlers share. */
export interface SimulatorState {
  settings: SimulatorSettings;
  ledger: Ledger;
  /** One prompt cache per service, as each keeps its own. */
  promptCaches: Record<DialectName, PromptCache>;
  rateLimits: RateLimitWindow;
  /** Requests seen per last-user text, for the `fail-first` directive. */
  faultStrikes: Map<string, number>;
  dialects: Record<DialectName, Dialect>;
  credentials: KnownCredentials;
  /** Vertex access tokens issued by the simulated Google token endpoint. */
  accessTokens: AccessTokens;
}
