export interface AccessToken {
  token: string;
  /** Date.now() milliseconds after which the token is refused. */
  expiresAt: number;
}

export interface AccessTokenCacheOptions {
  /** Refresh this long before expiry (at most half the token's lifetime). */
  refreshMarginMs: number;
  /**
   * Longest a caller waits for a token being minted, and the age after which a mint still
   * in flight is presumed lost and a new one started. In Workers a mint belongs to the
   * request that started it and dies with it if that request is cancelled, so its waiters
   * must not wait forever.
   */
  waitLimitMs: number;
  now?: () => number;
}

/** Waiting for a token took longer than the wait limit. */
export class AccessTokenTimeout extends Error {
  override readonly name = "AccessTokenTimeout";
}

interface Cached extends AccessToken {
  refreshAt: number;
}

/**
 * One access token shared by every request of the isolate, minted by `mint` and kept until
 * shortly before it expires. Single-flight: however many requests need a token at once,
 * one mint runs and all of them wait for it. When the token is due for refresh but still
 * valid, only the request that starts the refresh waits for it; the others keep using the
 * current token. A failed mint is not cached: its waiters get the error, the next caller
 * tries again.
 */
export class AccessTokenCache {
  #current: Cached | null = null;
  #flight: { promise: Promise<AccessToken>; startedAt: number } | null = null;
  readonly #now: () => number;

  constructor(
    private readonly mint: () => Promise<AccessToken>,
    private readonly options: AccessTokenCacheOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  async get(signal: AbortSignal): Promise<string> {
    const now = this.#now();
    const current = this.#current;
    if (current !== null && now < current.refreshAt) return current.token;
    if (current !== null && now < current.expiresAt) {
      if (this.#liveFlight(now) !== null) return current.token;
      try {
        return (await this.#wait(this.#start(now), signal)).token;
      } catch (error) {
        if (signal.aborted) throw error;
        return current.token;
      }
    }
    return (await this.#wait(this.#liveFlight(now) ?? this.#start(now), signal)).token;
  }

  /** Forgets a token the provider refused (revoked, or expired early), so the next caller mints a new one. */
  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = null;
  }

  #liveFlight(now: number): Promise<AccessToken> | null {
    const flight = this.#flight;
    return flight !== null && now - flight.startedAt < this.options.waitLimitMs ? flight.promise : null;
  }

  #start(now: number): Promise<AccessToken> {
    const promise = this.mint().then((token) => {
      const lifetime = Math.max(0, token.expiresAt - this.#now());
      this.#current = { ...token, refreshAt: token.expiresAt - Math.min(this.options.refreshMarginMs, lifetime / 2) };
      return token;
    });
    const flight = { promise, startedAt: now };
    this.#flight = flight;
    const settle = (): void => {
      if (this.#flight === flight) this.#flight = null;
    };
    promise.then(settle, settle);
    return promise;
  }

  /** Waits for a mint, giving up when the caller's signal aborts or the wait limit passes. */
  #wait(promise: Promise<AccessToken>, signal: AbortSignal): Promise<AccessToken> {
    signal.throwIfAborted();
    return new Promise<AccessToken>((resolve, reject) => {
      const stop = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        stop();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new AccessTokenTimeout(`no access token within ${this.options.waitLimitMs} ms`));
      }, this.options.waitLimitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (token) => {
          stop();
          resolve(token);
        },
        (error: unknown) => {
          stop();
          reject(error);
        },
      );
    });
  }
}
