import { GatewayError } from "../http/errors.js";

/** The request header carrying the Turnstile token (the name Cloudflare's own forms use). */
export const TURNSTILE_HEADER = "cf-turnstile-response";

/** How long a visitor session stays verified after passing a challenge. */
export const TURNSTILE_SESSION_SECONDS = 3600;

interface SiteverifyReply {
  success?: boolean;
  "error-codes"?: string[];
}

/**
 * Checks a Turnstile token with Cloudflare's siteverify endpoint. Tokens are single use
 * and expire after 300 s; the caller remembers a verified session instead of asking
 * for a token per message.
 */
export async function verifyTurnstile(
  verifyUrl: string,
  input: { secret: string; token: string; ip: string | null },
): Promise<void> {
  const form = new FormData();
  form.set("secret", input.secret);
  form.set("response", input.token);
  if (input.ip) form.set("remoteip", input.ip);
  let reply: SiteverifyReply;
  try {
    const response = await fetch(verifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(5_000) });
    reply = (await response.json()) as SiteverifyReply;
  } catch {
    throw new GatewayError("api_error", "The bot check could not be verified right now; retry shortly.", {
      status: 503,
      headers: { "retry-after": "5" },
    });
  }
  if (!reply.success) {
    throw new GatewayError(
      "permission_error",
      `The bot check failed (${(reply["error-codes"] ?? []).join(", ") || "no reason given"}); complete the challenge again.`,
    );
  }
}
