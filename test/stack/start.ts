/**
 * `npm start`: the front Worker, every regional gateway and their backing services on
 * loopback, until SIGINT (Ctrl-C), SIGTERM or SIGHUP, each of which stops everything it
 * started. Prints the URLs and keys (and writes them as JSON to STACK_FILE; `--json`
 * prints that JSON instead of the prose), then one line per request as it completes:
 * a readable summary in a terminal, the Worker's JSON log line otherwise. Rebuilds and
 * restarts the Workers when functions/, shared/ or wrangler.toml change.
 */
import { type FSWatcher, rmSync, watch } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { summarizeRequest } from "./request-summary.js";
import { describeStack, STACK_FILE, stackFacts } from "./stack-facts.js";
import { type Stack, startStack } from "./stack.js";
import { localSecrets, REPO_ROOT } from "./workers/wrangler-config.js";

const { values: flags } = parseArgs({ options: { json: { type: "boolean", default: false } } });

let stack: Stack | undefined;
let wroteFacts = false;
let stopping = false;
const watchers: FSWatcher[] = [];

const stop = async (signal: NodeJS.Signals): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.error(`\n${signal}: stopping...`);
  for (const watcher of watchers) watcher.close();
  // Before the stack is up, exiting is enough: the redis and workerd launchers stop their processes on exit.
  await stack?.stop();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));
process.on("exit", () => {
  if (wroteFacts) rmSync(STACK_FILE, { force: true });
});

function positiveIntegerFromEnv(name: string): number | null {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`${name} must be a positive whole number, not "${raw}".`);
    process.exit(1);
  }
  return value;
}

const devLimits = {
  requestsPerMinute: positiveIntegerFromEnv("EDGEGATE_DEV_RPM"),
  tokensPerMinute: positiveIntegerFromEnv("EDGEGATE_DEV_TPM"),
};
const anthropicApiKey = process.env.ANTHROPIC_API_KEY || (await localSecrets("")).ANTHROPIC_API_KEY || undefined;
const port = (name: string, fallback: number): number => positiveIntegerFromEnv(name) ?? fallback;
const terminal = process.stdout.isTTY === true;
/** Request lines are printed from the banner on (the stack's own set-up requests come before it). */
let printing = false;

try {
  stack = await startStack({
    topology: "regions",
    anthropicApiKey,
    localSecrets: true,
    timeScale: Number(process.env.SIM_TIME_SCALE ?? 1),
    retry: { deadlineMs: 20_000, baseDelayMs: 250 },
    ports: {
      gateway: port("GATEWAY_PORT", 8787),
      bridge: port("UPSTASH_BRIDGE_PORT", 8079),
      redis: port("REDIS_PORT", 6390),
      demo: port("DEMO_PORT", 8788),
    },
    devTenantLimits: Object.fromEntries(Object.entries(devLimits).filter(([, value]) => value !== null)),
    logLimit: 1_000,
    cron: true,
    onRequestLog: (line) => {
      if (printing) console.log(terminal ? summarizeRequest(line) : JSON.stringify(line));
    },
    onWorkerOutput: ({ level, message }) => console.error(`[worker ${level}] ${message}`),
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const facts = stackFacts(stack, devLimits);
await mkdir(dirname(STACK_FILE), { recursive: true });
await writeFile(STACK_FILE, `${JSON.stringify(facts, null, 2)}\n`, { mode: 0o600 });
wroteFacts = true;
console.log(flags.json ? JSON.stringify(facts) : describeStack(facts));
printing = true;
watchSources(stack);

/** Rebuilds when the Workers' sources change (debounced; one rebuild at a time, then one more if needed). */
function watchSources(running: Stack): void {
  let timer: NodeJS.Timeout | undefined;
  let rebuilding: Promise<void> | null = null;
  let again = false;
  const rebuild = async (): Promise<void> => {
    try {
      if (await running.rebuild()) console.error("[edgegate] sources changed: Workers rebuilt and restarted");
    } catch (error) {
      console.error(`[edgegate] rebuild failed, still serving the previous build:\n${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (rebuilding) {
        again = true;
        return;
      }
      rebuilding = rebuild().finally(() => {
        rebuilding = null;
        if (again) {
          again = false;
          schedule();
        }
      });
    }, 300);
  };
  for (const path of ["functions", "shared"]) watchers.push(watch(join(REPO_ROOT, path), { recursive: true }, schedule));
  watchers.push(watch(join(REPO_ROOT, "wrangler.toml"), schedule));
}
