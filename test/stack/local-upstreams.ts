import type { Simulator } from "./simulator/server.js";

/** A simulator's endpoints and credentials, as a region's upstreams need them. */
export type SimulatedUpstream = Pick<Simulator, "url" | "vertexUrl" | "tokenUrl" | "credentials">;

interface ChainEntry {
  kind: string;
  [field: string]: unknown;
}

/**
 * A region's upstream chain (UPSTREAM_CHAIN from wrangler.toml) pointed at the region's
 * simulator, which speaks the Anthropic API's, Bedrock's and Vertex AI's formats: Bedrock
 * and Vertex entries get the simulator as base URL (and token endpoint), and the
 * credentials secrets get the simulator's generated AWS key pair and service account.
 * The Anthropic entries keep UPSTREAM_BASE_URL, which the stack points at the simulator.
 */
export function simulatedUpstreams(configuredChain: string | undefined, simulator: SimulatedUpstream): Record<string, string> {
  const chain = (configuredChain ? JSON.parse(configuredChain) : [{ kind: "anthropic" }]) as ChainEntry[];
  const local = chain.map((entry) => {
    switch (entry.kind) {
      case "bedrock":
        return { ...entry, baseUrl: simulator.url };
      case "vertex":
        return { ...entry, baseUrl: simulator.vertexUrl, tokenUrl: simulator.tokenUrl };
      default:
        return entry;
    }
  });
  return {
    UPSTREAM_CHAIN: JSON.stringify(local),
    AWS_CREDENTIALS: JSON.stringify(simulator.credentials.aws),
    GCP_SERVICE_ACCOUNT_KEY: JSON.stringify(simulator.credentials.gcpServiceAccount),
  };
}
