import { utf8Length } from "../text/utf8.js";

/** Structural view of the parts of a Messages request that carry input tokens. */
export interface TokenBearingRequest {
  system?: unknown;
  messages: ReadonlyArray<{ content: unknown }>;
  tools?: unknown;
}

export interface InputEstimate {
  /** Likely token count (about 4 characters a token), for rate limiting. */
  typical: number;
  /** A count the real one cannot exceed (a token is at least one byte of text), for budgets. */
  upperBound: number;
}

/** Anthropic scales images to at most ~1.15 megapixels, about 1,600 tokens. */
const IMAGE_TOKENS = 1_600;
/** Per-message framing tokens the API adds around each turn. */
const MESSAGE_OVERHEAD_TOKENS = 8;

/** Estimates input tokens in one pass, without serialising the whole request. */
export function estimateInputTokens(request: TokenBearingRequest): InputEstimate {
  const tally = { chars: 0, bytes: 0, fixedTokens: 0 };
  addContent(request.system, tally);
  for (const message of request.messages) {
    tally.fixedTokens += MESSAGE_OVERHEAD_TOKENS;
    addContent(message.content, tally);
  }
  if (request.tools !== undefined) addText(JSON.stringify(request.tools), tally);
  return {
    typical: Math.ceil(tally.chars / 4) + tally.fixedTokens,
    upperBound: tally.bytes + tally.fixedTokens,
  };
}

interface Tally {
  chars: number;
  bytes: number;
  fixedTokens: number;
}

function addContent(content: unknown, tally: Tally): void {
  if (typeof content === "string") return addText(content, tally);
  if (!Array.isArray(content)) return;
  for (const block of content) {
    if (typeof block !== "object" || block === null) continue;
    const { type, text } = block as { type?: unknown; text?: unknown };
    if (type === "text" && typeof text === "string") addText(text, tally);
    else if (type === "image") tally.fixedTokens += IMAGE_TOKENS;
    else if (type === "tool_result") addContent((block as { content?: unknown }).content, tally);
    else addText(JSON.stringify(block), tally);
  }
}

function addText(text: string, tally: Tally): void {
  tally.chars += text.length;
  tally.bytes += utf8Length(text);
}

