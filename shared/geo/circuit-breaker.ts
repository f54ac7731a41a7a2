/**
 * A circuit breaker per region, as pure functions over a JSON-serialisable state
 * (it is shared between isolates through the Cache API). Every function returns
 * the very same state object when nothing changed, so callers can skip the write.
 *
 * closed    -> requests flow; `failureThreshold` consecutive failures, each within
 *              `failureWindowMs` of now, open the breaker.
 * open      -> no requests until `coolDownMs` has passed; then the next attempt
 *              becomes the one probe (half-open).
 * half-open -> one probe in flight; others wait. Its lease ends after
 *              `probeTimeoutMs`, so a lost probe (isolate evicted, result never
 *              recorded) lets another one through. Success closes, failure re-opens.
 */

export interface BreakerConfig {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Failures older than this no longer count towards the threshold. */
  failureWindowMs: number;
  /** How long an open breaker refuses requests before letting a probe through. */
  coolDownMs: number;
  /** How long a probe holds its lease before another probe may go. */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER_CONFIG: Readonly<BreakerConfig> = {
  failureThreshold: 3,
  failureWindowMs: 30_000,
  coolDownMs: 10_000,
  probeTimeoutMs: 5_000,
};

export type BreakerState =
  | { readonly status: "closed"; readonly recentFailures: readonly number[] }
  | { readonly status: "open"; readonly openedAt: number }
  | { readonly status: "half-open"; readonly probeLeaseExpiresAt: number };

export type BreakerStatus = BreakerState["status"];

export const CLOSED_BREAKER: BreakerState = Object.freeze({ status: "closed", recentFailures: Object.freeze([]) });

export interface AttemptDecision {
  /** Whether a request may go to the region now. */
  allowed: boolean;
  /** Whether that request is the half-open probe (its outcome decides the breaker). */
  probe: boolean;
  /** The state to store: a new one when this attempt took the probe lease. */
  state: BreakerState;
}

export function canAttempt(state: BreakerState, now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): AttemptDecision {
  switch (state.status) {
    case "closed":
      return { allowed: true, probe: false, state };
    case "open":
      return coolDownOver(state, now, config) ? takeProbeLease(now, config) : refused(state);
    case "half-open":
      return now >= state.probeLeaseExpiresAt ? takeProbeLease(now, config) : refused(state);
  }
}

export function recordFailure(state: BreakerState, now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerState {
  switch (state.status) {
    case "closed": {
      const recentFailures = [...state.recentFailures.filter((at) => now - at < config.failureWindowMs), now];
      return recentFailures.length >= config.failureThreshold ? opened(now) : { status: "closed", recentFailures };
    }
    case "open":
      // A failure during the cool-down comes from a request sent before the breaker
      // opened; it must not push the probe further out.
      return coolDownOver(state, now, config) ? opened(now) : state;
    case "half-open":
      return opened(now);
  }
}

export function recordSuccess(state: BreakerState, now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerState {
  switch (state.status) {
    case "closed":
      return state.recentFailures.length === 0 ? state : CLOSED_BREAKER;
    case "open":
      // A success during the cool-down comes from a request sent before the breaker
      // opened; only a request sent after it (the probe) may close it.
      return coolDownOver(state, now, config) ? CLOSED_BREAKER : state;
    case "half-open":
      return CLOSED_BREAKER;
  }
}

/** The status as of `now`: an open breaker whose cool-down is over reads as half-open. */
export function breakerStatus(state: BreakerState, now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerStatus {
  return state.status === "open" && coolDownOver(state, now, config) ? "half-open" : state.status;
}

/** Whether a value (e.g. parsed from storage) is a well-formed breaker state. */
export function isBreakerState(value: unknown): value is BreakerState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Record<string, unknown>;
  switch (state.status) {
    case "closed":
      return Array.isArray(state.recentFailures) && state.recentFailures.every(Number.isFinite);
    case "open":
      return Number.isFinite(state.openedAt);
    case "half-open":
      return Number.isFinite(state.probeLeaseExpiresAt);
    default:
      return false;
  }
}

function coolDownOver(state: { openedAt: number }, now: number, config: BreakerConfig): boolean {
  return now - state.openedAt >= config.coolDownMs;
}

function opened(now: number): BreakerState {
  return { status: "open", openedAt: now };
}

function takeProbeLease(now: number, config: BreakerConfig): AttemptDecision {
  return { allowed: true, probe: true, state: { status: "half-open", probeLeaseExpiresAt: now + config.probeTimeoutMs } };
}

function refused(state: BreakerState): AttemptDecision {
  return { allowed: false, probe: false, state };
}
