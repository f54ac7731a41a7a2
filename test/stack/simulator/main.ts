import { parseArgs } from "node:util";
import { startSimulator } from "./server.js";

/**
 * Runs the simulator from the command line, e.g.
 * `tsx test/stack/simulator/main.ts --port 8790 --time-scale 1 [--host H] [--extra-latency-ms N] [--api-key K ...]`
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8790" },
    host: { type: "string", default: "127.0.0.1" },
    "time-scale": { type: "string", default: "1" },
    "extra-latency-ms": { type: "string", default: "0" },
    "api-key": { type: "string", multiple: true },
  },
});

function numberOption(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number >= 0, got ${value}`);
  return parsed;
}

const simulator = await startSimulator({
  port: numberOption("port", values.port),
  host: values.host,
  timeScale: numberOption("time-scale", values["time-scale"]),
  extraLatencyMs: numberOption("extra-latency-ms", values["extra-latency-ms"]),
  ...(values["api-key"] === undefined ? {} : { apiKeys: values["api-key"] }),
});
console.log(`simulator listening on ${simulator.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
