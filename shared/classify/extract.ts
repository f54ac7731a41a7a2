/**
 * Walks a (possibly malformed) Messages request and feeds bounded samples of
 * its text to the scanner.
 *
 * - the latest user ask (the last user message with text) is scanned fully up
 *   to PRIMARY_BUDGET code units, else its head and tail;
 * - earlier turns (most recent first), tool results and text documents are
 *   sampled into `context`, at most CONTEXT_PER_MESSAGE units each and
 *   CONTEXT_BUDGET in total;
 * - the system prompt is sampled into `system` (SYSTEM_BUDGET units);
 * - total sizes are measured with `.length` only (no scanning, no copies).
 *
 * Every access is guarded with typeof checks; nothing here throws on input
 * of the wrong shape.
 */

import { emptyStats, scanText, type ScanStats } from "./text-scan.js";

export const PRIMARY_BUDGET = 12_000;
export const CONTEXT_BUDGET = 8_000;
export const CONTEXT_PER_MESSAGE = 2_000;
export const CONTEXT_MAX_MESSAGES = 24;
export const SYSTEM_BUDGET = 2_000;
/** Messages (from the end) whose sizes are summed; older ones are only counted. */
export const MAX_MESSAGES_WALK = 1_000;
/** Blocks per message that are looked at. */
export const MAX_BLOCKS = 256;
/** Blocks looked at in the whole request (bounds the walk for pathological inputs). */
export const MAX_TOTAL_BLOCKS = 8_192;

export interface Extracted {
  /** The latest user ask. */
  primary: ScanStats;
  /** Earlier turns, tool results, text documents (sampled). */
  context: ScanStats;
  /** System prompt (sampled). */
  system: ScanStats;
  /** Full length of the latest ask's text, in code units. */
  primaryChars: number;
  /** Length of all text in system + messages (walked part), in code units. */
  totalChars: number;
  /** User messages carrying text (tool-result-only messages excluded). */
  userTurns: number;
  messages: number;
  toolsDefined: number;
  /** tool_use + tool_result blocks in the conversation. */
  toolBlocks: number;
  /** image / document blocks. */
  attachments: number;
  maxTokens: number;
  thinking: boolean;
  thinkingBudget: number;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null;
}

/** Scan `text` within `budget` units: whole, or 2/3 head + 1/3 tail. */
function scanSampled(stats: ScanStats, text: string, budget: number): number {
  const len = text.length;
  if (budget <= 0 || len === 0) return 0;
  if (len <= budget) {
    scanText(stats, text, 0, len);
    return len;
  }
  const head = Math.floor((budget * 2) / 3);
  const tail = budget - head;
  scanText(stats, text, 0, head);
  scanText(stats, text, len - tail, len);
  return budget;
}

/** Text carried by a tool_result / document block, if it is a plain string. */
function nestedText(block: Rec): string | undefined {
  const content = block["content"];
  if (typeof content === "string") return content;
  const source = block["source"];
  if (isRec(source) && typeof source["data"] === "string" && source["type"] === "text") {
    return source["data"];
  }
  return undefined;
}

interface BlockSummary {
  /** Text blocks (the user's own words). */
  texts: string[];
  /** Tool results, documents and other nested text. */
  nested: string[];
  textChars: number;
  nestedChars: number;
  toolBlocks: number;
  attachments: number;
}

interface Budget {
  blocks: number;
}

function summarise(content: unknown, budget: Budget): BlockSummary {
  const out: BlockSummary = {
    texts: [],
    nested: [],
    textChars: 0,
    nestedChars: 0,
    toolBlocks: 0,
    attachments: 0,
  };
  if (typeof content === "string") {
    out.texts.push(content);
    out.textChars = content.length;
    return out;
  }
  if (!Array.isArray(content)) return out;
  const n = Math.min(content.length, MAX_BLOCKS, budget.blocks);
  budget.blocks -= n;
  for (let b = 0; b < n; b++) {
    const block: unknown = content[b];
    if (typeof block === "string") {
      out.texts.push(block);
      out.textChars += block.length;
      continue;
    }
    if (!isRec(block)) continue;
    const type = block["type"];
    if (type === "text" || (type === undefined && typeof block["text"] === "string")) {
      const t = block["text"];
      if (typeof t === "string") {
        out.texts.push(t);
        out.textChars += t.length;
      }
      continue;
    }
    if (type === "tool_use" || type === "tool_result" || type === "server_tool_use") {
      out.toolBlocks++;
    } else if (type === "image" || type === "document") {
      out.attachments++;
    }
    const nested = nestedText(block);
    if (nested !== undefined) {
      out.nested.push(nested);
      out.nestedChars += nested.length;
      continue;
    }
    const inner = block["content"];
    if (Array.isArray(inner)) {
      const m = Math.min(inner.length, MAX_BLOCKS, budget.blocks);
      budget.blocks -= m;
      for (let k = 0; k < m; k++) {
        const ib: unknown = inner[k];
        if (isRec(ib) && typeof ib["text"] === "string") {
          out.nested.push(ib["text"]);
          out.nestedChars += ib["text"].length;
        }
      }
    }
  }
  return out;
}

/** Sizes only (no scanning, no allocation): text length, tool and attachment blocks. */
function measure(
  content: unknown,
  out: { chars: number; tools: number; attachments: number; userText: boolean },
  budget: Budget,
): void {
  out.chars = 0;
  out.tools = 0;
  out.attachments = 0;
  out.userText = false;
  if (typeof content === "string") {
    out.chars = content.length;
    out.userText = content.length > 0;
    return;
  }
  if (!Array.isArray(content)) return;
  const n = Math.min(content.length, MAX_BLOCKS, budget.blocks);
  budget.blocks -= n;
  for (let b = 0; b < n; b++) {
    const block: unknown = content[b];
    if (typeof block === "string") {
      out.chars += block.length;
      out.userText = out.userText || block.length > 0;
      continue;
    }
    if (!isRec(block)) continue;
    const type = block["type"];
    const text = block["text"];
    if (typeof text === "string") {
      out.chars += text.length;
      if (type === "text" || type === undefined) out.userText = out.userText || text.length > 0;
      continue;
    }
    if (type === "tool_use" || type === "tool_result" || type === "server_tool_use") out.tools++;
    else if (type === "image" || type === "document") out.attachments++;
    const nested = nestedText(block);
    if (nested !== undefined) out.chars += nested.length;
  }
}

/** Scan a list of strings within `budget`, sharing it in proportion to length. */
function scanList(stats: ScanStats, list: string[], total: number, budget: number): number {
  if (total <= budget) {
    for (const t of list) scanText(stats, t, 0, t.length);
    return total;
  }
  let used = 0;
  for (const t of list) {
    if (used >= budget) break;
    const share = Math.max(256, Math.floor((budget * t.length) / total));
    used += scanSampled(stats, t, Math.min(share, budget - used));
  }
  return used;
}

function systemText(system: unknown): string[] {
  if (typeof system === "string") return [system];
  const out: string[] = [];
  if (!Array.isArray(system)) return out;
  const n = Math.min(system.length, MAX_BLOCKS);
  for (let k = 0; k < n; k++) {
    const b: unknown = system[k];
    if (typeof b === "string") out.push(b);
    else if (isRec(b) && typeof b["text"] === "string") out.push(b["text"]);
  }
  return out;
}

function finiteNumber(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/**
 * `collectGrams` (training only) records the latest ask's n-gram buckets in
 * `primary.gramSink`.
 */
export function extract(request: unknown, collectGrams = false): Extracted {
  const ex: Extracted = {
    primary: emptyStats(),
    context: emptyStats(),
    system: emptyStats(),
    primaryChars: 0,
    totalChars: 0,
    userTurns: 0,
    messages: 0,
    toolsDefined: 0,
    toolBlocks: 0,
    attachments: 0,
    maxTokens: 0,
    thinking: false,
    thinkingBudget: 0,
  };
  if (collectGrams) ex.primary.gramSink = [];
  if (!isRec(request)) return ex;

  // System prompt.
  const sys = systemText(request["system"]);
  let sysChars = 0;
  for (const t of sys) sysChars += t.length;
  scanList(ex.system, sys, sysChars, SYSTEM_BUDGET);
  ex.totalChars += sysChars;

  // Request options.
  const tools = request["tools"];
  if (Array.isArray(tools)) ex.toolsDefined = tools.length;
  ex.maxTokens = Math.max(0, finiteNumber(request["max_tokens"]));
  const thinking = request["thinking"];
  if (isRec(thinking) && (thinking["type"] === "enabled" || thinking["type"] === "adaptive")) {
    ex.thinking = true;
    ex.thinkingBudget = Math.max(0, finiteNumber(thinking["budget_tokens"]));
  }

  const messages = request["messages"];
  if (!Array.isArray(messages)) return ex;
  ex.messages = messages.length;

  // Walk from the newest message backwards.
  const stop = Math.max(0, messages.length - MAX_MESSAGES_WALK);
  let primaryFound = false;
  let contextUsed = 0;
  let contextMessages = 0;
  const sizes = { chars: 0, tools: 0, attachments: 0, userText: false };
  const budget: Budget = { blocks: MAX_TOTAL_BLOCKS };
  for (let m = messages.length - 1; m >= stop && budget.blocks > 0; m--) {
    const msg: unknown = messages[m];
    if (!isRec(msg)) continue;
    const role = msg["role"];
    if (primaryFound && (contextMessages >= CONTEXT_MAX_MESSAGES || contextUsed >= CONTEXT_BUDGET)) {
      // Older history: sizes and turn counts only.
      measure(msg["content"], sizes, budget);
      ex.totalChars += sizes.chars;
      ex.toolBlocks += sizes.tools;
      ex.attachments += sizes.attachments;
      if (role === "user" && sizes.userText) ex.userTurns++;
      continue;
    }
    const sum = summarise(msg["content"], budget);
    ex.totalChars += sum.textChars + sum.nestedChars;
    ex.toolBlocks += sum.toolBlocks;
    ex.attachments += sum.attachments;
    const isUser = role === "user";
    if (isUser && sum.textChars > 0) ex.userTurns++;

    if (!primaryFound && isUser && sum.textChars > 0) {
      primaryFound = true;
      ex.primaryChars = sum.textChars;
      scanList(ex.primary, sum.texts, sum.textChars, PRIMARY_BUDGET);
      if (sum.nestedChars > 0 && contextUsed < CONTEXT_BUDGET) {
        contextUsed += scanList(
          ex.context,
          sum.nested,
          sum.nestedChars,
          Math.min(CONTEXT_PER_MESSAGE, CONTEXT_BUDGET - contextUsed),
        );
      }
      continue;
    }
    if (contextMessages >= CONTEXT_MAX_MESSAGES || contextUsed >= CONTEXT_BUDGET) continue;
    contextMessages++;
    const chars = sum.textChars + sum.nestedChars;
    if (chars === 0) continue;
    const all = sum.nested.length === 0 ? sum.texts : sum.texts.concat(sum.nested);
    contextUsed += scanList(
      ex.context,
      all,
      chars,
      Math.min(CONTEXT_PER_MESSAGE, CONTEXT_BUDGET - contextUsed),
    );
  }
  return ex;
}
