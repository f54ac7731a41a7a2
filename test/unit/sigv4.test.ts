import { describe, expect, it } from "vitest";
import { SigV4Signer, amzDate, uriEncode } from "../../shared/providers/bedrock/sigv4.js";

/** AWS's published SigV4 test suite credentials and time (aws-sig-v4-test-suite). */
const EXAMPLE = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const AT = new Date("2015-08-30T12:36:00Z");
const SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

function sign(method: string, url: string, signer = new SigV4Signer(EXAMPLE, "us-east-1", "service")): Promise<Record<string, string>> {
  return signer.sign({ method, url: new URL(url), headers: {}, body: new Uint8Array(0) }, AT);
}

describe("SigV4Signer", () => {
  it.each([
    ["get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"],
    [
      "get-vanilla-query-order-key-case",
      "GET",
      "https://example.amazonaws.com/?Param2=value2&Param1=value1",
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ],
    ["post-vanilla", "POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"],
  ])("matches AWS's test suite: %s", async (_name, method, url, signature) => {
    const headers = await sign(method, url);
    expect(headers).toEqual({
      "x-amz-date": "20150830T123600Z",
      authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    });
  });

  it("signs the session token of temporary credentials and the headers it is given", async () => {
    const signer = new SigV4Signer({ ...EXAMPLE, sessionToken: "token/with+chars" }, "eu-central-1", "bedrock");
    const headers = await signer.sign(
      { method: "POST", url: new URL("https://bedrock-runtime.eu-central-1.amazonaws.com/model/x/invoke"), headers: { "content-type": "application/json" }, body: new Uint8Array([123, 125]) },
      AT,
    );
    expect(headers["x-amz-security-token"]).toBe("token/with+chars");
    expect(headers["content-type"]).toBe("application/json");
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-central-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers).not.toHaveProperty("host");
  });

  it("gives a different signature for a different body, path or day", async () => {
    const signer = new SigV4Signer(EXAMPLE, "us-east-1", "bedrock");
    const signature = async (path: string, body: string, at: Date): Promise<string> =>
      (await signer.sign({ method: "POST", url: new URL(`https://h.example${path}`), headers: {}, body: new TextEncoder().encode(body) }, at)).authorization!;
    const base = await signature("/model/a%3A0/invoke", "{}", AT);
    expect(await signature("/model/a%3A0/invoke", "{}", AT)).toBe(base);
    expect(await signature("/model/a%3A0/invoke", "{ }", AT)).not.toBe(base);
    expect(await signature("/model/a%3A1/invoke", "{}", AT)).not.toBe(base);
    expect(await signature("/model/a%3A0/invoke", "{}", new Date("2015-08-31T12:36:00Z"))).not.toBe(base);
  });

  it("formats the timestamp and encodes as RFC 3986 wants", () => {
    expect(amzDate(AT)).toBe("20150830T123600Z");
    expect(uriEncode("anthropic.claude-v1:0 (x)*!'")).toBe("anthropic.claude-v1%3A0%20%28x%29%2A%21%27");
  });
});
