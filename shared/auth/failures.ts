import type { Redis } from "@upstash/redis";
import { GatewayError } from "../http/errors.js";
import { retryAfterSeconds, type Scope } from "../ledger/buckets.js";
import { takeFromBuckets } from "../ledger/limits.js";

const MAX_REMEMBERED = 10_000;

/** While a network is blocked, one attempt a second still goes through, so a valid key behind the same address is not locked out. */
const BLOCKED_ATTEMPT_INTERVAL_MS = 1_000;

/**
 * Throttles failed authentications per client network, so guessing keys or the admin
 * token costs the guesser, not storage: each failure takes from the network's bucket
 * (shared by every isolate), and once it is empty this isolate lets the network try only
 * once a second until the bucket has room again (refusing the rest without any storage
 * call), so that a valid key on a shared network still gets through.
 */
export class FailureThrottle {
  private readonly blockedUntil = new Map<string, number>();
  private readonly nextAttemptAt = new Map<string, number>();

  constructor(
    private readonly scope: Extract<Scope, "auth" | "admin">,
    private readonly perMinute: number,
  ) {}

  /** Refuses (429) an attempt from a network this isolate knows to be over its limit, but for one a second. */
  checkNotBlocked(networkId: string, now: number): void {
    const until = this.blockedUntil.get(networkId);
    if (until === undefined) return;
    if (until <= now) {
      this.blockedUntil.delete(networkId);
      this.nextAttemptAt.delete(networkId);
      return;
    }
    if ((this.nextAttemptAt.get(networkId) ?? 0) <= now) {
      this.nextAttemptAt.set(networkId, now + BLOCKED_ATTEMPT_INTERVAL_MS);
      return;
    }
    throw this.refusal(until - now);
  }

  /** Counts a failure; refuses (429) when the network has now used up its limit. */
  async recordFailure(redis: Redis, networkId: string, now: number): Promise<void> {
    try {
      await takeFromBuckets(redis, [{ scope: this.scope, id: networkId, dimension: "requests", capacity: this.perMinute, cost: 1 }]);
    } catch (error) {
      if (!(error instanceof GatewayError)) return; // storage trouble: the failure itself is still answered
      const waitMs = Number(error.headers["retry-after"] ?? 60) * 1000;
      if (this.blockedUntil.size >= MAX_REMEMBERED) {
        const oldest = this.blockedUntil.keys().next().value!;
        this.blockedUntil.delete(oldest);
        this.nextAttemptAt.delete(oldest);
      }
      this.blockedUntil.set(networkId, now + waitMs);
      this.nextAttemptAt.set(networkId, now + BLOCKED_ATTEMPT_INTERVAL_MS);
      throw this.refusal(waitMs);
    }
  }

  private refusal(waitMs: number): GatewayError {
    const retryAfter = retryAfterSeconds(waitMs);
    const what = this.scope === "admin" ? "failed admin authentications" : "requests with invalid API keys";
    return new GatewayError("rate_limit_error", `Too many ${what} from this network; retry in ${retryAfter} s.`, {
      headers: { "retry-after": String(retryAfter) },
    });
  }
}

/** Key hashes an isolate recently found unknown, so repeating a bad key costs no storage call. */
export class UnknownKeys {
  private readonly until = new Map<string, number>();

  constructor(private readonly rememberMs: number) {}

  has(keyHash: string, now: number): boolean {
    const until = this.until.get(keyHash);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(keyHash);
    return false;
  }

  add(keyHash: string, now: number): void {
    if (this.until.size >= MAX_REMEMBERED) this.until.delete(this.until.keys().next().value!);
    this.until.set(keyHash, now + this.rememberMs);
  }
}
