import { describe, expect, it } from "vitest";
import { toBase64 } from "../../shared/text/bytes.js";
import { CLOUD_PLATFORM_SCOPE, GOOGLE_TOKEN_URL, importSigningKey, signedAssertion } from "../../shared/providers/vertex/service-account.js";

const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

async function serviceAccount(): Promise<{ pem: string; publicKey: CryptoKey }> {
  const pair = (await crypto.subtle.generateKey(
    { ...RS256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const der = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const lines = toBase64(der).match(/.{1,64}/g)!.join("\n");
  return { pem: `-----BEGIN PRIVATE KEY-----\n${lines}\n-----END PRIVATE KEY-----\n`, publicKey: pair.publicKey };
}

function fromBase64Url(segment: string): Uint8Array {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (char) => char.charCodeAt(0));
}

function decodeJson(segment: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(segment))) as Record<string, unknown>;
}

describe("service-account assertion", () => {
  it("is an RS256 JWT the service account's public key verifies, with Google's claims", async () => {
    const { pem, publicKey } = await serviceAccount();
    const account = { client_email: "edgegate@proj.iam.gserviceaccount.com", private_key: pem, private_key_id: "kid-1" };
    const jwt = await signedAssertion(await importSigningKey(pem), account, 1_700_000_000);
    const [header, claims, signature] = jwt.split(".");
    expect(decodeJson(header!)).toEqual({ alg: "RS256", typ: "JWT", kid: "kid-1" });
    expect(decodeJson(claims!)).toEqual({
      iss: account.client_email,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: GOOGLE_TOKEN_URL,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    const signed = new TextEncoder().encode(`${header}.${claims}`);
    expect(await crypto.subtle.verify(RS256, publicKey, fromBase64Url(signature!), signed)).toBe(true);
    expect(await crypto.subtle.verify(RS256, publicKey, fromBase64Url(signature!), new TextEncoder().encode(`${header}.x${claims}`))).toBe(false);
  });

  it("takes the key's token_uri as audience, and a PEM whose newlines were written as \\n", async () => {
    const { pem } = await serviceAccount();
    const escaped = pem.replace(/\n/g, "\\n");
    const account = { client_email: "a@b.iam.gserviceaccount.com", private_key: escaped, token_uri: "https://oauth2.example/token" };
    const jwt = await signedAssertion(await importSigningKey(escaped), account, 0);
    expect(decodeJson(jwt.split(".")[1]!).aud).toBe("https://oauth2.example/token");
  });

  it("explains a PKCS#1 key instead of failing obscurely", async () => {
    await expect(importSigningKey("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")).rejects.toThrow(/PKCS#8/);
  });
});
