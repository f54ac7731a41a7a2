/**
 * Reading router-evaluation JSONL files.
 *
 * Accepted lines:
 *   {"prompt": P, "weak": number, "strong": number, ...}   quality pair
 *   {"prompt": P, "label": 0 | 1, ...}                      1 = needs the strong model
 * where P is a string (one user message) or a full Messages request object.
 * Other fields (id, source...) are kept as `group` when `source` is a string.
 */

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { MessagesRequestLike } from "../../shared/classify/index.js";

export interface QualityRow {
  kind: "quality";
  request: MessagesRequestLike;
  weak: number;
  strong: number;
  group: string;
  textLength: number;
}

export interface LabelRow {
  kind: "label";
  request: MessagesRequestLike;
  label: number;
  group: string;
  textLength: number;
}

export type Row = QualityRow | LabelRow;

export interface LoadResult {
  rows: Row[];
  skipped: number;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function toRequest(prompt: unknown): MessagesRequestLike | undefined {
  if (typeof prompt === "string") return { messages: [{ role: "user", content: prompt }] };
  if (isRec(prompt) && Array.isArray(prompt["messages"])) return prompt as unknown as MessagesRequestLike;
  return undefined;
}

/** Characters of text in a request (system + message text), for the length baseline. */
export function requestTextLength(req: MessagesRequestLike): number {
  let n = 0;
  const sys: unknown = req.system;
  if (typeof sys === "string") n += sys.length;
  else if (Array.isArray(sys)) {
    for (const b of sys) if (isRec(b) && typeof b["text"] === "string") n += b["text"].length;
  }
  for (const m of req.messages) {
    const c: unknown = isRec(m) ? m["content"] : undefined;
    if (typeof c === "string") n += c.length;
    else if (Array.isArray(c)) {
      for (const b of c) {
        if (!isRec(b)) continue;
        if (typeof b["text"] === "string") n += b["text"].length;
        else if (typeof b["content"] === "string") n += b["content"].length;
      }
    }
  }
  return n;
}

export function parseRow(line: string): Row | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRec(obj)) return undefined;
  const request = toRequest(obj["prompt"]);
  if (request === undefined) return undefined;
  const group = typeof obj["source"] === "string" ? obj["source"] : "";
  const textLength = requestTextLength(request);
  const weak = obj["weak"];
  const strong = obj["strong"];
  if (typeof weak === "number" && typeof strong === "number") {
    return { kind: "quality", request, weak, strong, group, textLength };
  }
  const label = obj["label"];
  if (typeof label === "number" || typeof label === "boolean") {
    return { kind: "label", request, label: Number(label), group, textLength };
  }
  return undefined;
}

export async function loadJsonl(path: string): Promise<LoadResult> {
  const rows: Row[] = [];
  let skipped = 0;
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const row = parseRow(line);
    if (row === undefined) skipped++;
    else rows.push(row);
  }
  return { rows, skipped };
}
