import { describe, expect, it } from "vitest";
import { constantTimeEqual, sha256Hex } from "../../shared/auth/constant-time.js";
import { presentedKey } from "../../shared/auth/presented-key.js";
import { keyKindOf, newKey } from "../../shared/tenants/key-format.js";

describe("presentedKey", () => {
  it("reads x-api-key first, then a Bearer token", () => {
    expect(presentedKey(new Headers({ "x-api-key": "k1", authorization: "Bearer k2" }))).toBe("k1");
    expect(presentedKey(new Headers({ authorization: "bearer  k2 " }))).toBe("k2");
    expect(presentedKey(new Headers({ authorization: "Basic abc" }))).toBeNull();
    expect(presentedKey(new Headers())).toBeNull();
  });
});

describe("constantTimeEqual", () => {
  it("compares by content, including different lengths", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});

describe("keys", () => {
  it("are prefixed by kind, random, and hashed with SHA-256", async () => {
    const secret = newKey("secret");
    const publishable = newKey("publishable");
    expect(secret).toMatch(/^sk-eg-[0-9A-Za-z]{32}$/);
    expect(publishable).toMatch(/^pk-eg-[0-9A-Za-z]{32}$/);
    expect(keyKindOf(secret)).toBe("secret");
    expect(keyKindOf(publishable)).toBe("publishable");
    expect(keyKindOf("sk-ant-xyz")).toBeNull();
    expect(new Set(Array.from({ length: 50 }, () => newKey("secret"))).size).toBe(50);
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
