import type { UpstreamEntry } from "./network/places.js";
import type { Simulator } from "./simulator/server.js";

/** A simulator's endpoints and credentials, as a region's upstreams need them. */
export type SimulatedUpstream = Pick<Simulator, "url" | "vertexUrl" | "tokenUrl" | "credentials">;

interface ChainEntry extends UpstreamEntry {
  [field: string]: unknown;
}

/** `url` with its origin replaced by `origin` (the same simulator reached another way). */
function rebase(url: string, origin: string): string {
  const { pathname } = new URL(url);
  return pathname === "/" ? origin : `${origin}${pathname}`;
}

/**
 * A region's upstream chain (UPSTREAM_CHAIN from wrangler.toml) pointed at the region's
 * simulator, which speaks the Anthropic API's, Bedrock's and Vertex AI's formats: Bedrock
 * and Vertex entries get the simulator as base URL (and token endpoint), and the
 * credentials secrets get the simulator's generated AWS key pair and service account.
 * `originOf` says where the region reaches the simulator for each entry's endpoint (a
 * delayed link of its own in a stack with distance). The Anthropic entries keep
 * UPSTREAM_BASE_URL, which the stack points at the simulator the same way.
 */
export async function simulatedUpstreams(
  configuredChain: string | undefined,
  simulator: SimulatedUpstream,
  originOf: (entry: UpstreamEntry) => Promise<string>,
): Promise<Record<string, string>> {
  const chain = (configuredChain ? JSON.parse(configuredChain) : [{ kind: "anthropic" }]) as ChainEntry[];
  const local = await Promise.all(
    chain.map(async (entry) => {
      switch (entry.kind) {
        case "bedrock":
          return { ...entry, baseUrl: rebase(simulator.url, await originOf(entry)) };
        case "vertex": {
          const origin = await originOf(entry);
          return { ...entry, baseUrl: rebase(simulator.vertexUrl, origin), tokenUrl: rebase(simulator.tokenUrl, origin) };
        }
        default:
          return entry;
      }
    }),
  );
  return {
    UPSTREAM_CHAIN: JSON.stringify(local),
    AWS_CREDENTIALS: JSON.stringify(simulator.credentials.aws),
    GCP_SERVICE_ACCOUNT_KEY: JSON.stringify(simulator.credentials.gcpServiceAccount),
  };
}
