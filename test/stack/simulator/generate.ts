import { sha256Hex } from "./hash.js";
import { randomId } from "./ids.js";
import type { Random } from "./random.js";
import { seededRandom } from "./random.js";
import type { Tool } from "./request-schema.js";
import { sampleObject } from "./tool-input.js";

export type StopReason = "end_turn" | "max_tokens" | "tool_use";

/**
 * A content block of the answer, cut into the pieces it is streamed in. Every
 * piece is one output token: a word with its leading space (text, thinking) or
 * a few characters of the tool input's JSON. Signatures cost no tokens.
 */
export type PlannedBlock =
  | { type: "thinking"; pieces: string[]; signature: string }
  | { type: "text"; pieces: string[] }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown>; pieces: string[] };

export interface OutputPlan {
  blocks: PlannedBlock[];
  stopReason: StopReason;
  outputTokens: number;
}

export interface GenerationRequest {
  /** Hash of the request (without `stream`): equal requests get equal answers. */
  seed: string;
  maxTokens: number;
  /** Length of the text answer; null picks 20..60 tokens from the seed. */
  textTokens: number | null;
  thinking: boolean;
  tool: Tool | null;
}

const VOCABULARY = [
  "the", "edge", "gateway", "routes", "each", "request", "to", "a", "nearby", "model", "and", "streams",
  "tokens", "back", "while", "cache", "keeps", "prompts", "warm", "so", "latency", "stays", "low", "for",
  "every", "user", "in", "region", "with", "fair", "limits", "budgets", "quietly", "balanced", "across", "keys",
  "retries", "handle", "overload", "gracefully", "logs", "record", "usage", "per", "tenant", "today",
] as const;

const TOOL_INPUT_PIECE_CHARS = 4;

function sentence(random: Random, length: number): string[] {
  return Array.from({ length }, (_, index) => {
    const word = random.pick(VOCABULARY);
    if (index === 0) return word.charAt(0).toUpperCase() + word.slice(1) + (length === 1 ? "." : "");
    return ` ${word}${index === length - 1 ? "." : ""}`;
  });
}

function chunk(text: string, size: number): string[] {
  return Array.from({ length: Math.ceil(text.length / size) }, (_, index) => text.slice(index * size, (index + 1) * size));
}

function fullAnswer(request: GenerationRequest, random: Random): PlannedBlock[] {
  const blocks: PlannedBlock[] = [];
  if (request.thinking) {
    const signature = Buffer.from(sha256Hex(`signature:${request.seed}`), "hex").toString("base64");
    blocks.push({ type: "thinking", pieces: sentence(random, random.int(10, 30)), signature });
  }
  if (request.tool === null) {
    blocks.push({ type: "text", pieces: sentence(random, request.textTokens ?? random.int(20, 60)) });
    return blocks;
  }
  const { name, input_schema: schema = {} } = request.tool;
  const input = sampleObject(schema, random);
  blocks.push({ type: "text", pieces: ["I'll", " use", " the", ` ${name}`, " tool."] });
  blocks.push({ type: "tool_use", id: randomId("toolu"), name, input, pieces: chunk(JSON.stringify(input), TOOL_INPUT_PIECE_CHARS) });
  return blocks;
}

/**
 * Cuts the answer at `max_tokens`. Text and thinking stop mid-block; a tool call
 * that does not fit whole is left out (the real API would send a partial one).
 */
function capAtMaxTokens(blocks: readonly PlannedBlock[], maxTokens: number): { blocks: PlannedBlock[]; truncated: boolean } {
  const kept: PlannedBlock[] = [];
  let budget = maxTokens;
  for (const block of blocks) {
    if (block.pieces.length <= budget) {
      kept.push(block);
      budget -= block.pieces.length;
      continue;
    }
    if (block.type !== "tool_use" && budget > 0) kept.push({ ...block, pieces: block.pieces.slice(0, budget) });
    return { blocks: kept, truncated: true };
  }
  return { blocks: kept, truncated: false };
}

export function planOutput(request: GenerationRequest): OutputPlan {
  const { blocks, truncated } = capAtMaxTokens(fullAnswer(request, seededRandom(request.seed)), request.maxTokens);
  const stopReason: StopReason = truncated ? "max_tokens" : blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
  return { blocks, stopReason, outputTokens: blocks.reduce((total, block) => total + block.pieces.length, 0) };
}
