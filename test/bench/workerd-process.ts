import { descendants } from "./processes.js";

/**
 * Runs `start` (which starts one workerd through Miniflare) and finds the workerd
 * process it spawned, so the bench can charge that process with CPU and memory.
 */
export async function withNewWorkerd<T>(start: () => Promise<T>): Promise<{ started: T; workerdPid: number }> {
  const before = new Set(descendants(process.pid).map((info) => info.pid));
  const started = await start();
  const spawned = descendants(process.pid).filter((info) => info.comm === "workerd" && !before.has(info.pid));
  if (spawned.length !== 1) {
    throw new Error(`expected one new workerd process, found ${JSON.stringify(spawned.map((info) => info.pid))}`);
  }
  return { started, workerdPid: spawned[0]!.pid };
}
