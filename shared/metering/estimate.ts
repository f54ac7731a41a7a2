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
  /** A count the real one cannot exceed, for budgets. */
  upperBound: number;
}

/**
 * What the input costs beyond its text. An image is scaled to at most ~1.15 megapixels,
 * about 1,600 tokens; the upper bound allows for the larger images newer models read.
 * PDFs (inline or by URL) are at most 100 pages a request, each read as text and as an
 * image. Tools add the API's tool-use system prompt and, for typed tools (bash, text
 * editor, computer), their built-in definitions.
 */
export const INPUT_ALLOWANCES = {
  imageTokens: 1_600,
  imageTokensUpperBound: 5_000,
  pdfTokensPerRequestUpperBound: 100 * 4_000,
  toolOverheadUpperBound: 2_000,
} as const;

/** Per-message framing tokens the API adds around each turn. */
const MESSAGE_OVERHEAD_TOKENS = 8;

interface Tally {
  chars: number;
  bytes: number;
  fixedTokens: number;
  fixedUpperBound: number;
  pdfs: boolean;
}

/**
 * Estimates input tokens in one pass, without serialising the whole request. The upper
 * bound counts every byte of text as a token (a token is at least one byte), plus the
 * allowances above.
 */
export function estimateInputTokens(request: TokenBearingRequest): InputEstimate {
  const tally: Tally = { chars: 0, bytes: 0, fixedTokens: 0, fixedUpperBound: 0, pdfs: false };
  addContent(request.system, tally);
  for (const message of request.messages) {
    tally.fixedTokens += MESSAGE_OVERHEAD_TOKENS;
    tally.fixedUpperBound += MESSAGE_OVERHEAD_TOKENS;
    addContent(message.content, tally);
  }
  if (Array.isArray(request.tools) && request.tools.length > 0) {
    addText(JSON.stringify(request.tools), tally);
    tally.fixedUpperBound += INPUT_ALLOWANCES.toolOverheadUpperBound;
  }
  return {
    typical: Math.ceil(tally.chars / 4) + tally.fixedTokens,
    upperBound: tally.bytes + tally.fixedUpperBound + (tally.pdfs ? INPUT_ALLOWANCES.pdfTokensPerRequestUpperBound : 0),
  };
}

function addContent(content: unknown, tally: Tally): void {
  if (typeof content === "string") return addText(content, tally);
  if (!Array.isArray(content)) return;
  for (const block of content) {
    if (typeof block !== "object" || block === null) continue;
    const { type, text, source } = block as { type?: unknown; text?: unknown; source?: { type?: unknown; media_type?: unknown } };
    if (type === "text" && typeof text === "string") addText(text, tally);
    else if (type === "image") {
      tally.fixedTokens += INPUT_ALLOWANCES.imageTokens;
      tally.fixedUpperBound += INPUT_ALLOWANCES.imageTokensUpperBound;
    } else if (type === "document" && (source?.type === "url" || source?.media_type === "application/pdf")) {
      // A PDF's tokens are its pages, not its bytes: the per-request allowance bounds them.
      tally.pdfs = true;
      tally.chars += JSON.stringify(block).length;
    } else if (type === "tool_result") addContent((block as { content?: unknown }).content, tally);
    else addText(JSON.stringify(block), tally);
  }
}

function addText(text: string, tally: Tally): void {
  tally.chars += text.length;
  tally.bytes += utf8Length(text);
}
