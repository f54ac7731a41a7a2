import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * V8 flags for every local workerd (the stack's and the Workers test pool's).
 *
 * `--single-threaded-gc`: without it, workerd can livelock under load on a small machine.
 * After each JavaScript turn workerd drains V8's foreground task queue until it is empty,
 * and local workerd has no CPU limit to stop that loop. cppgc's low-priority sweep task
 * re-posts itself at once while concurrent sweeping is unfinished; concurrent sweeping
 * needs a V8 worker thread, and on a 2-core machine the only one can be parked waiting
 * for the main thread to collect garbage (a background compile job that ran out of
 * memory). The process then spins at 100% and answers nothing (seen in the regional
 * ledger tests, about once in 25 runs: gdb showed the main thread in
 * `IncrementalSweepTask` under `IoContext::runImpl`'s pump, the worker thread in
 * `CollectionBarrier::AwaitCollectionBackground`). Single-threaded GC sweeps on the main
 * thread, so the task finishes. Production enforces CPU limits, which end that loop.
 */
export const WORKERD_V8_FLAGS = ["--single-threaded-gc"];

/**
 * Makes Miniflare start workerd with WORKERD_V8_FLAGS (or EDGEGATE_WORKERD_V8_FLAGS when
 * set, space-separated: empty measures without), for workerd processes this process starts
 * from now on: Miniflare has no option for V8 flags, so its workerd becomes a wrapper that
 * sets them in the config (MINIFLARE_WORKERD_PATH still names the real binary when set).
 */
export function useWorkerdV8Flags(): void {
  const wrapper = fileURLToPath(new URL("./workerd-v8-flags.sh", import.meta.url));
  if (process.env.MINIFLARE_WORKERD_PATH === wrapper) return;
  const miniflare = createRequire(import.meta.url).resolve("miniflare");
  const bundled = createRequire(miniflare)("workerd") as { default: string };
  process.env.EDGEGATE_WORKERD_BINARY = process.env.MINIFLARE_WORKERD_PATH ?? bundled.default;
  process.env.EDGEGATE_WORKERD_V8_FLAGS ??= WORKERD_V8_FLAGS.join(" ");
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
}
