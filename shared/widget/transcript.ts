import { constantTimeEqual } from "../auth/constant-time.js";
import { keyedHash } from "../auth/keyed-hash.js";
import { GatewayError } from "../http/errors.js";
import { toBase64Url } from "../text/bytes.js";
import type { SseEvent } from "../sse/parser.js";

/** The SSE event the gateway appends to a complete widget answer, carrying its signature. */
export const TURN_EVENT = "edgegate_turn";

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/**
 * Answers are signed, so a visitor cannot put words in the assistant's mouth (or pad
 * every request with invented history): the signature covers the whole conversation up
 * to and including the answer, for this widget key. The browser sends back the latest
 * signature with the conversation; anything after the signed part must be the visitor's.
 */
export async function signConversation(secret: string, keyId: string, messages: readonly ChatMessage[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(messages.map((m) => [m.role, m.content]))));
  return toBase64Url(await keyedHash(secret, "widget-turn", `${keyId}|${toBase64Url(new Uint8Array(digest))}`));
}

/** Refuses (400) a conversation whose assistant turns the gateway did not produce. */
export async function verifyConversation(secret: string, keyId: string, messages: readonly ChatMessage[], signature: string | undefined): Promise<void> {
  let lastAnswer = -1;
  messages.forEach((message, index) => {
    if (message.role === "assistant") lastAnswer = index;
  });
  if (lastAnswer < 0) return;
  const expected = await signConversation(secret, keyId, messages.slice(0, lastAnswer + 1));
  if (!signature || !constantTimeEqual(signature, expected)) {
    throw new GatewayError(
      "invalid_request_error",
      "messages: the conversation's answers were not all given by this chat (or were changed); send the signature of the latest answer, or start a new conversation.",
    );
  }
}

/** Collects an answer's text as it streams, to sign it when it is complete. */
export class AnswerRecorder {
  private text = "";

  observe(event: SseEvent): void {
    if (event.event !== "content_block_delta" || !event.data.includes('"text_delta"')) return;
    const { delta } = JSON.parse(event.data) as { delta?: { type?: string; text?: string } };
    if (delta?.type === "text_delta" && typeof delta.text === "string") this.text += delta.text;
  }

  get answer(): string {
    return this.text;
  }
}

/** The event that ends a signed answer. */
export function turnEvent(signature: string): string {
  return `event: ${TURN_EVENT}\ndata: ${JSON.stringify({ type: TURN_EVENT, signature })}\n\n`;
}
