/**
 * An isolate's view of whether a database answers: after consecutive failed calls it is
 * presumed down for a while, so the work that needs it goes elsewhere (or fails per
 * policy) at once instead of waiting for a timeout on every request. One failure alone
 * (a slow answer, a lost connection) does not: a success clears the count.
 */
/** Consecutive failed calls after which a database is presumed down. */
const FAILURES_BEFORE_DOWN = 2;

export class StorageHealth {
  private failures = 0;
  private downUntil = 0;

  constructor(private readonly downForMs: number) {}

  isDown(now = Date.now()): boolean {
    return now < this.downUntil;
  }

  markDown(now = Date.now()): void {
    this.failures++;
    if (this.failures >= FAILURES_BEFORE_DOWN) this.downUntil = now + this.downForMs;
  }

  markUp(): void {
    this.failures = 0;
    this.downUntil = 0;
  }
}

export class StorageTimeout extends Error {}

/** Rejects with StorageTimeout when `work` takes longer than `ms`. */
export function withinTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageTimeout(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
