import { withinTimeout } from "./health.js";

export interface CoalescerLimits {
  /** Most writes issued together. */
  maxBatch: number;
  /**
   * Longest a batch counts as in flight, a held write waits to be issued, and a write issued
   * by another writer waits for its outcome (at least the writes' own timeout).
   */
  maxWaitMs: number;
}

/** A write, from its call until its batch ends. */
interface Held {
  issue: () => Promise<unknown>;
  issued: boolean;
  /** Sends a held writer to look again: a batch ended, or another writer issued this write. */
  wake: () => void;
  /** The write's outcome, handed over through a promise its writer made. */
  outcome: Deferred<unknown>;
}

/**
 * Natural coalescing of writes, with no delay: a write is issued at once when no batch is
 * in flight; writes that come while one is in flight are held, and when it ends (answered
 * or failed) they are issued together, in one tick, which the Upstash client's
 * auto-pipelining sends as one HTTP request. An idle isolate writes exactly as without it;
 * under concurrency the round trips drop. Each write resolves or rejects on its own.
 *
 * Bounded: a batch holds at most `maxBatch` writes (the write that fills one issues it at
 * once), so a held write waits for one batch at most; a batch counts as in flight for
 * `maxWaitMs` at most, a held write waits no longer than that to be issued, nor, once
 * another writer issued it, for its outcome.
 *
 * In Workers the I/O a request starts is cancelled when that request ends, and a promise's
 * continuations run in the request that made it. So a batch is always issued by one of its
 * own writers, which waits for the whole batch before its own write resolves (its I/O and
 * the writes' timers keep it alive); and a held writer is woken, and given its outcome,
 * through promises it made itself.
 */
export class WriteCoalescer {
  /** Writes not issued yet, oldest first; fewer than a batch between calls. */
  private held: Held[] = [];
  private readonly inFlight = new Set<{ until: number }>();

  constructor(private readonly limits: CoalescerLimits) {}

  write<T>(issue: () => Promise<T>): Promise<T> {
    const entry: Held = { issue, issued: false, wake: () => undefined, outcome: deferred() };
    this.held.push(entry);
    if (!this.busy() || this.held.length >= this.limits.maxBatch) return this.issueWith(entry) as Promise<T>;
    return this.holdThenWrite(entry) as Promise<T>;
  }

  private busy(now = Date.now()): boolean {
    for (const batch of this.inFlight) if (batch.until <= now) this.inFlight.delete(batch);
    return this.inFlight.size > 0;
  }

  /**
   * workerd cancels a request that waits with nothing of its own pending, as hung; a promise
   * another request settles is not its own. So a held writer always has a timer pending: the
   * first wakes it if the batch in flight never ends (the request that issued it is gone), the
   * second bounds the wait for its outcome once another writer issued its write.
   */
  private async holdThenWrite(entry: Held): Promise<unknown> {
    const woken = deferred<void>();
    entry.wake = () => woken.resolve();
    const watchdog = setTimeout(entry.wake, this.limits.maxWaitMs);
    await woken.promise;
    clearTimeout(watchdog);
    return entry.issued ? withinTimeout(entry.outcome.promise, this.limits.maxWaitMs) : this.issueWith(entry);
  }

  /** Issues the held writes, `own` among them, in this tick; resolves with `own`'s outcome once the whole batch has ended. */
  private async issueWith(own: Held): Promise<unknown> {
    const batch = { until: Date.now() + this.limits.maxWaitMs };
    this.inFlight.add(batch);
    const writes = this.held.splice(0, this.limits.maxBatch).map((entry) => {
      entry.issued = true;
      if (entry !== own) entry.wake();
      const write = attempt(entry.issue);
      write.then(entry.outcome.resolve, entry.outcome.reject);
      return write;
    });
    await Promise.allSettled(writes);
    this.inFlight.delete(batch);
    for (const entry of this.held) entry.wake();
    return own.outcome.promise;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Its writer may look only later; the rejection is still handed to it then.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** `issue()`, with a synchronous throw turned into a rejection. */
function attempt<T>(issue: () => Promise<T>): Promise<T> {
  try {
    return issue();
  } catch (error) {
    return Promise.reject(error);
  }
}
