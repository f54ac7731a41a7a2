import type { ProviderEntry } from "./chain-config.js";

/**
 * Where an endpoint processes prompts: a geography ("us", "eu", "apac", or another
 * AWS / Google region prefix), or "global" for endpoints that may process anywhere
 * (Bedrock's global inference profile, Vertex's global location).
 */
export type Geography = string;

/** AWS and Google region prefixes, by geography. */
const PREFIXES: ReadonlyArray<[RegExp, Geography]> = [
  [/^(us|ca|northamerica)-/, "us"],
  [/^(eu|europe)-/, "eu"],
  [/^(ap|asia|australia)-/, "apac"],
  [/^(sa|southamerica)-/, "sa"],
  [/^me-/, "me"],
  [/^(af|africa)-/, "af"],
];

function regionGeography(region: string): Geography {
  return PREFIXES.find(([prefix]) => prefix.test(region))?.[1] ?? region;
}

/**
 * The geography of a provider entry. The Anthropic API processes in the US. Bedrock
 * in-region stays in its region's geography, a geographic inference profile in that
 * geography (Japan's in Asia-Pacific). Vertex's multi-regions "us" / "eu" and its
 * regional locations stay in theirs.
 */
export function providerGeography(entry: ProviderEntry): Geography {
  switch (entry.kind) {
    case "anthropic":
      return "us";
    case "bedrock":
      if (entry.inferenceProfile === "global") return "global";
      if (entry.inferenceProfile === "jp") return "apac";
      return entry.inferenceProfile ?? regionGeography(entry.region);
    case "vertex":
      if (entry.location === "global") return "global";
      if (entry.location === "us" || entry.location === "eu") return entry.location;
      return regionGeography(entry.location);
  }
}
