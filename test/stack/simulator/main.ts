import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type AwsCredentials, type ServiceAccountKeyFile, startSimulator } from "./server.js";

/**
 * Runs the simulator from the command line, e.g.
 * `tsx test/stack/simulator/main.ts --port 8790 --time-scale 1 [--host H] [--extra-latency-ms N] [--api-key K ...]
 *   [--aws-credentials FILE] [--gcp-service-account FILE] [--vertex-token-lifetime S] [--credentials-out FILE]`
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8790" },
    host: { type: "string", default: "127.0.0.1" },
    "time-scale": { type: "string", default: "1" },
    "extra-latency-ms": { type: "string", default: "0" },
    "api-key": { type: "string", multiple: true },
    "aws-credentials": { type: "string" },
    "gcp-service-account": { type: "string" },
    "vertex-token-lifetime": { type: "string" },
    "credentials-out": { type: "string" },
  },
});

function numberOption(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number >= 0, got ${value}`);
  return parsed;
}

function jsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

const simulator = await startSimulator({
  port: numberOption("port", values.port),
  host: values.host,
  timeScale: numberOption("time-scale", values["time-scale"]),
  extraLatencyMs: numberOption("extra-latency-ms", values["extra-latency-ms"]),
  ...(values["api-key"] === undefined ? {} : { apiKeys: values["api-key"] }),
  ...(values["aws-credentials"] === undefined ? {} : { awsCredentials: [jsonFile<AwsCredentials>(values["aws-credentials"])] }),
  ...(values["gcp-service-account"] === undefined
    ? {}
    : { gcpServiceAccounts: [jsonFile<ServiceAccountKeyFile>(values["gcp-service-account"])] }),
  ...(values["vertex-token-lifetime"] === undefined
    ? {}
    : { vertexTokenLifetimeSeconds: numberOption("vertex-token-lifetime", values["vertex-token-lifetime"]) }),
});
if (values["credentials-out"] !== undefined) {
  writeFileSync(values["credentials-out"], JSON.stringify(simulator.credentials, null, 2), { mode: 0o600 });
}
console.log(`simulator listening on ${simulator.url} (Vertex base URL ${simulator.vertexUrl}, token URL ${simulator.tokenUrl})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
