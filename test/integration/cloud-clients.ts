import Anthropic from "@anthropic-ai/sdk";
import { AnthropicBedrock } from "@anthropic-ai/bedrock-sdk";
import { AnthropicVertex } from "@anthropic-ai/vertex-sdk";
import { JWT } from "google-auth-library";
import type { Simulator } from "../stack/simulator/server.js";

/** The official clients, pointed at one simulator, each in its own wire format; no client-side retries. */
export const SIM_API_KEY = "sk-sim-cloud-formats";
export const BEDROCK_REGION = "eu-central-1";
export const VERTEX_LOCATION = "europe-west1";
const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

export function anthropicClient(sim: Simulator): Anthropic {
  return new Anthropic({ apiKey: SIM_API_KEY, baseURL: sim.url, maxRetries: 0 });
}

export function bedrockClient(sim: Simulator, secretAccessKey = sim.credentials.aws.secretAccessKey): AnthropicBedrock {
  return new AnthropicBedrock({
    awsRegion: BEDROCK_REGION,
    awsAccessKey: sim.credentials.aws.accessKeyId,
    awsSecretKey: secretAccessKey,
    // Sign with SigV4 even if AWS_BEARER_TOKEN_BEDROCK happens to be set.
    apiKey: null,
    baseURL: sim.url,
    maxRetries: 0,
  });
}

/**
 * google-auth-library signs the service account's assertion and exchanges it as it would
 * with Google; only the token endpoint's address is swapped for the simulator's (the
 * library has Google's URL built in).
 */
export function googleAuthClient(sim: Simulator): JWT {
  const account = sim.credentials.gcpServiceAccount;
  const client = new JWT({ email: account.client_email, key: account.private_key, keyId: account.private_key_id, scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
  client.transporter.interceptors.request.add({
    resolved: async (config) => {
      if (config.url.toString() === GOOGLE_TOKEN_URL) config.url = new URL(sim.tokenUrl);
      return config;
    },
  });
  return client;
}

export function vertexClient(sim: Simulator, authClient: JWT = googleAuthClient(sim)): AnthropicVertex {
  return new AnthropicVertex({
    region: VERTEX_LOCATION,
    projectId: sim.credentials.gcpServiceAccount.project_id,
    baseURL: sim.vertexUrl,
    authClient,
    maxRetries: 0,
  });
}
