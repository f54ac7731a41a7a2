import type { Directives } from "./directives.js";
import { lastUserHasToolResult } from "./prompt.js";
import type { MessagesRequest, Tool } from "./request-schema.js";

/**
 * The client tool the simulated model calls, or null to answer with text. A tool
 * is called when the request has client tools (ones with an `input_schema`) and
 * either `tool_choice` is `any`/`tool` or the `sim:tool` directive is set (unless
 * `tool_choice` is `none`), except when the last user message carries tool results.
 */
export function toolToCall(request: MessagesRequest, directives: Directives): Tool | null {
  const clientTools = (request.tools ?? []).filter((tool) => tool.input_schema !== undefined);
  const choice = request.tool_choice;
  const wantsTool =
    choice?.type === "any" || choice?.type === "tool" || (directives.forceToolUse && choice?.type !== "none");
  if (!wantsTool || lastUserHasToolResult(request)) return null;
  if (choice?.type === "tool") return clientTools.find((tool) => tool.name === choice.name) ?? null;
  return clientTools[0] ?? null;
}
