import type { PromptSegment } from "./prompt.js";

/**
 * The simulator's token estimate: ceil(characters / 4) for each prompt segment
 * (a tool definition serialized as JSON, the system string or one system block,
 * a message's string content or one content block, whose text is used for text
 * blocks and its JSON for any other block type), summed over all segments.
 * Messages usage, count_tokens and prompt-cache thresholds all use this rule.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function countPromptTokens(segments: readonly PromptSegment[]): number {
  return segments.reduce((total, segment) => total + estimateTokens(segment.text), 0);
}
