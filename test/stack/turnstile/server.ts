/**
 * A local stand-in for Cloudflare Turnstile's siteverify endpoint
 * (POST /turnstile/v0/siteverify, form fields secret, response, remoteip), answering
 * the way Cloudflare documents for its test secret keys:
 *   1x0000000000000000000000000000000AA  every token passes
 *   2x0000000000000000000000000000000AA  every token fails     (invalid-input-response)
 *   3x0000000000000000000000000000000AA  every token is spent  (timeout-or-duplicate)
 * Any other secret is invalid-input-secret; a missing token is missing-input-response.
 * It also counts the verifications it answered, for tests.
 */
import { type LocalServer, listenLocal, readBody } from "../http-server.js";

export const TURNSTILE_TEST_SECRETS = {
  passes: "1x0000000000000000000000000000000AA",
  fails: "2x0000000000000000000000000000000AA",
  spent: "3x0000000000000000000000000000000AA",
} as const;
/** Cloudflare's test site key that always passes without interaction. */
export const TURNSTILE_TEST_SITE_KEY = "1x00000000000000000000AA";

export interface TurnstileStandIn extends LocalServer {
  verifyUrl: string;
  verifications(): number;
}

export async function startTurnstile(port = 0): Promise<TurnstileStandIn> {
  let verifications = 0;
  const server = await listenLocal(port, async (request, response) => {
    if (request.method !== "POST" || request.url !== "/turnstile/v0/siteverify") {
      response.writeHead(404).end();
      return;
    }
    const raw = await readBody(request);
    const form = (request.headers["content-type"] ?? "").startsWith("multipart/form-data")
      ? await new Response(raw, { headers: { "content-type": request.headers["content-type"]! } }).formData()
      : new URLSearchParams(raw);
    verifications++;
    const secret = form.get("secret");
    const token = form.get("response");
    const reply = (success: boolean, errors: string[] = []) =>
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ success, "error-codes": errors, ...(success ? { challenge_ts: new Date().toISOString(), hostname: "localhost" } : {}) }));
    if (!token) return reply(false, ["missing-input-response"]);
    if (secret === TURNSTILE_TEST_SECRETS.passes) return reply(true);
    if (secret === TURNSTILE_TEST_SECRETS.fails) return reply(false, ["invalid-input-response"]);
    if (secret === TURNSTILE_TEST_SECRETS.spent) return reply(false, ["timeout-or-duplicate"]);
    return reply(false, [secret ? "invalid-input-secret" : "missing-input-secret"]);
  });
  return { ...server, verifyUrl: `${server.url}/turnstile/v0/siteverify`, verifications: () => verifications };
}
