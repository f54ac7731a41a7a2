import type { AnthropicUsage } from "./anthropic-types.js";
import type { ChatCompletionUsage } from "./chat-types.js";

/**
 * OpenAI's usage for Anthropic's. Anthropic counts cache writes and reads apart from
 * input_tokens; OpenAI's prompt_tokens covers the whole prompt, cached part included.
 */
export function toChatUsage(usage: AnthropicUsage): ChatCompletionUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cacheRead;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}
