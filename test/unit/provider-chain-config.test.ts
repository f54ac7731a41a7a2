import { describe, expect, it } from "vitest";
import { ProviderConfigError, parseProviderChain } from "../../shared/providers/chain-config.js";

const AWS = JSON.stringify({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "very-secret-value" });
const GCP = JSON.stringify({
  type: "service_account",
  project_id: "acme-prod",
  private_key_id: "k1",
  private_key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
  client_email: "edgegate@acme-prod.iam.gserviceaccount.com",
  token_uri: "https://oauth2.googleapis.com/token",
});

function chain(entries: unknown, secrets: Record<string, unknown> = { AWS_CREDENTIALS: AWS, GCP_SERVICE_ACCOUNT_KEY: GCP }) {
  return parseProviderChain(JSON.stringify(entries), secrets);
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the chain to be refused");
}

describe("parseProviderChain", () => {
  it("reads an ordered chain with each entry's credentials from its secret", () => {
    const parsed = chain(
      [
        { kind: "vertex", location: "europe-west1" },
        { kind: "bedrock", region: "eu-central-1", inferenceProfile: "eu", credentialsSecret: "AWS_EU" },
        { kind: "anthropic" },
      ],
      { AWS_EU: JSON.stringify({ accessKeyId: "AKIA2", secretAccessKey: "s2", sessionToken: "tok" }), GCP_SERVICE_ACCOUNT_KEY: GCP },
    );
    expect(parsed).toEqual([
      {
        kind: "vertex",
        location: "europe-west1",
        projectId: "acme-prod",
        serviceAccount: {
          client_email: "edgegate@acme-prod.iam.gserviceaccount.com",
          private_key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
          private_key_id: "k1",
          token_uri: "https://oauth2.googleapis.com/token",
          project_id: "acme-prod",
        },
      },
      {
        kind: "bedrock",
        region: "eu-central-1",
        inferenceProfile: "eu",
        credentials: { accessKeyId: "AKIA2", secretAccessKey: "s2", sessionToken: "tok" },
      },
      { kind: "anthropic" },
    ]);
  });

  it("keeps base URLs, a project id and model overrides", () => {
    const [vertex, bedrock] = chain([
      { kind: "vertex", location: "global", projectId: "other-project", baseUrl: "http://127.0.0.1:8790/v1", tokenUrl: "http://127.0.0.1:8790/token", models: { "claude-opus-4-7": null } },
      { kind: "bedrock", region: "ap-southeast-1", baseUrl: "http://127.0.0.1:8790", models: { "claude-x": "arn:aws:bedrock:x" } },
    ]);
    expect(vertex).toMatchObject({ projectId: "other-project", baseUrl: "http://127.0.0.1:8790/v1", tokenUrl: "http://127.0.0.1:8790/token", models: { "claude-opus-4-7": null } });
    expect(bedrock).toMatchObject({ baseUrl: "http://127.0.0.1:8790", models: { "claude-x": "arn:aws:bedrock:x" } });
  });

  it("says which entry and field are wrong", () => {
    expect(failure(() => chain([]))).toMatch(/at least one provider/);
    expect(failure(() => parseProviderChain("[{", {}))).toMatch(/not valid JSON/);
    expect(failure(() => chain([{ kind: "bedrock", region: "Frankfurt" }]))).toMatch(/0\.region: expected an AWS region/);
    expect(failure(() => chain([{ kind: "anthropic" }, { kind: "bedrock", region: "us-east-1", inferenceProfile: "mars" }]))).toMatch(
      /1\.inferenceProfile: expected us \| eu \| apac \| jp \| global/,
    );
    expect(failure(() => chain([{ kind: "vertex", location: "europe-west1", baseUrl: "ftp://x" }]))).toMatch(/0\.baseUrl: expected an http\(s\) URL/);
    expect(failure(() => chain([{ kind: "azure" }]))).toMatch(/0\.kind/);
    expect(failure(() => chain([{ kind: "bedrock", region: "us-east-1", regoin: "typo" }]))).toMatch(/regoin/);
  });

  it("says which secret is missing or malformed, never what it holds", () => {
    expect(failure(() => chain([{ kind: "bedrock", region: "us-east-1" }], {}))).toBe(
      "provider 0 (bedrock us-east-1): secret AWS_CREDENTIALS is not set",
    );
    expect(failure(() => chain([{ kind: "bedrock", region: "us-east-1" }], { AWS_CREDENTIALS: "very-secret-value" }))).toBe(
      "provider 0 (bedrock us-east-1): secret AWS_CREDENTIALS is not a JSON object",
    );
    const message = failure(() =>
      chain([{ kind: "bedrock", region: "us-east-1" }], { AWS_CREDENTIALS: JSON.stringify({ accessKeyId: "very-secret-value" }) }),
    );
    expect(message).toBe("provider 0 (bedrock us-east-1): secret AWS_CREDENTIALS: secretAccessKey missing or not a string");
    expect(message).not.toContain("very-secret-value");
    expect(failure(() => chain([{ kind: "vertex", location: "us" }], { GCP_SERVICE_ACCOUNT_KEY: JSON.stringify({ client_email: "a@b", private_key: "k" }) }))).toBe(
      "provider 0 (vertex us): no projectId, and the service-account key has no project_id",
    );
  });
});
