/**
 * The arithmetic of deciding locally (pure, no I/O): how much budget lease and rate
 * credit a region asks the primary for, when it tops up and gives back, and what a
 * limit becomes while the primary cannot be reached.
 *
 * A budget lease is part of a tenant's budget headroom the primary hands one region;
 * the region admits against it with its own database and spends it exactly, so that
 * settled + reserved + leased never exceeds the budget. A rate credit is a number of
 * units the region took from the primary's per-minute bucket, spent locally within
 * `creditTtlMs`. What a region admits in any window was counted by the primary in that
 * window or was credit it held when the window began; all regions together hold at most
 * `rateOvershootShare` of a limit, so a limit admits at most that share of a minute's
 * limit more than one central bucket would, over any window.
 */
export interface LeaseTuning {
  /** A lease covers about this much of the region's recent spend... */
  leaseHorizonMs: number;
  /** ...and at least this many worst-case requests like the current one. */
  leaseMinRequests: number;
  /** The primary grants at most 1/divisor of a budget's remaining headroom per lease. */
  leaseHeadroomDivisor: number;
  /** Credit lives this long after it is taken from the primary's bucket (unspent, it is lost to the limit). */
  creditTtlMs: number;
  /** Credit covers about this much of the region's recent use of a limit... */
  creditHorizonMs: number;
  /** ...and all regions together hold at most this share of a limit: the overshoot bound. */
  rateOvershootShare: number;
  /** The replica of keys and tenants is refreshed once it is this old... */
  replicaRefreshMs: number;
  /** ...and never used older than this (unless the primary is unreachable). */
  replicaMaxAgeMs: number;
  /** After a failed call, a database is presumed down this long (its work goes elsewhere at once). */
  downForMs: number;
}

export const DEFAULT_LEASE_TUNING: LeaseTuning = {
  leaseHorizonMs: 60_000,
  leaseMinRequests: 4,
  leaseHeadroomDivisor: 4,
  creditTtlMs: 60_000,
  creditHorizonMs: 6_000,
  rateOvershootShare: 0.1,
  replicaRefreshMs: 1_000,
  replicaMaxAgeMs: 2_500,
  downForMs: 5_000,
};

/** The lease a region aims to hold: its recent spend over the horizon, at least a few requests' worst case. */
export function leaseTarget(spendLastMinute: number, requestMicroUsd: number, tuning: LeaseTuning): number {
  return Math.max(tuning.leaseMinRequests * requestMicroUsd, Math.ceil((spendLastMinute * tuning.leaseHorizonMs) / 60_000));
}

/** What to ask for (a lease, or a limit's credit) once less than half the target is left (0: nothing yet). */
export function topUp(held: number, target: number): number {
  return held < target / 2 ? target - Math.max(0, held) : 0;
}

/** What to give back when more than twice the target sits unused (0: nothing). */
export function leaseExcess(available: number, target: number): number {
  return available > 2 * target ? available - target : 0;
}

/**
 * The most credit one region may hold for a limit: its part of the overshoot share. 0 for
 * a limit too small to share (under 30 a minute with three regions): the primary decides.
 */
export function creditCap(capacity: number, regionCount: number, tuning: Pick<LeaseTuning, "rateOvershootShare">): number {
  return Math.floor((capacity * tuning.rateOvershootShare) / Math.max(1, regionCount));
}

/**
 * The credit a region aims to hold for one limit: its recent use over the horizon, at
 * least two requests like this one, within its cap. 0 when one request is more than the
 * cap: such requests are admitted on the primary.
 */
export function creditTarget(usedLastMinute: number, cost: number, capacity: number, regionCount: number, tuning: LeaseTuning): number {
  const cap = creditCap(capacity, regionCount, tuning);
  if (cost > cap || cap === 0) return 0;
  return Math.min(cap, Math.max(2 * cost, Math.ceil((usedLastMinute * tuning.creditHorizonMs) / 60_000)));
}

/**
 * A shared limit while the primary is unreachable: each region enforces its share on its
 * own, so all regions together stay within the limit.
 */
export function fallbackCapacity(capacity: number, regionCount: number): number {
  return Math.max(1, Math.floor(capacity / Math.max(1, regionCount)));
}
