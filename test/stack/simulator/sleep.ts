import { performance } from "node:perf_hooks";

/**
 * Resolves at `target` (a `performance.now()` time), never earlier, or as soon as
 * `signal` aborts, clearing its timer. Timers may fire early by a fraction of a
 * millisecond, so the remaining time is re-checked on every wake-up.
 */
export function sleepUntil(target: number, signal: AbortSignal): Promise<void> {
  if (target <= performance.now() || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      resolve();
    };
    const wakeAtTarget = (): void => {
      const remainingMs = target - performance.now();
      if (remainingMs <= 0) finish();
      else timer = setTimeout(wakeAtTarget, Math.ceil(remainingMs));
    };
    signal.addEventListener("abort", finish, { once: true });
    wakeAtTarget();
  });
}
