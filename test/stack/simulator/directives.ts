import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "./errors.js";

const FAULTS = ["429", "529", "500", "error-mid", "stall-mid", "stall-first", "slow-first"] as const;
export type Fault = (typeof FAULTS)[number];

/**
 * Per-request instructions to the simulator, written as `sim:<name>[=<value>]`
 * in the last user message or as `x-sim-<name>: <value>` headers (headers win):
 *
 * - `fault=429|529|500`     fail before streaming (429 carries `retry-after`)
 * - `fault=error-mid`       stream `after` tokens, then an `error` event (non-streaming: 529)
 * - `fault=stall-mid`       stream `after` tokens, then hold the connection silently
 * - `fault=stall-first`     hold the connection before any byte of the answer (no headers)
 * - `fault=slow-first`      time to first token x10
 * - `retry-after=N`         seconds in the 429 `retry-after` header (default 1)
 * - `after=K`               tokens before error-mid / stall-mid strike (default 5)
 * - `ttft=MS`               time to first token in ms (still scaled by timeScale)
 * - `tps=N`                 output tokens per second
 * - `tokens=N`              length of the text answer in tokens
 * - `tool`                  answer with a tool call when the request has tools
 * - `fail-first=N`          the fault strikes only the first N requests with this same text (for retries)
 * - `fault-model=PREFIX`    the fault strikes only requests for models starting with PREFIX (for fallbacks)
 */
export interface Directives {
  fault: Fault | null;
  retryAfterSeconds: number;
  faultAfterTokens: number;
  ttftMs: number | null;
  tokensPerSecond: number | null;
  textTokens: number | null;
  forceToolUse: boolean;
  failFirst: number | null;
  faultModelPrefix: string | null;
}

type RawValue = string | null;

function invalid(name: string, value: RawValue, expected: string): ApiError {
  return new ApiError("invalid_request_error", `simulator directive ${name}=${value ?? ""}: expected ${expected}`);
}

function parseNumber(name: string, value: RawValue, expected: string, accept: (parsed: number) => boolean): number {
  const parsed = value === null || value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(parsed) || !accept(parsed)) throw invalid(name, value, expected);
  return parsed;
}

const isNonNegativeInteger = (parsed: number): boolean => Number.isInteger(parsed) && parsed >= 0;

function fault(value: RawValue): Fault {
  const match = FAULTS.find((candidate) => candidate === value);
  if (match === undefined) throw invalid("fault", value, FAULTS.join(" | "));
  return match;
}

function flag(name: string, value: RawValue): boolean {
  if (value === null || value === "" || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalid(name, value, "no value, true/1 or false/0");
}

const APPLIERS: Readonly<Record<string, (value: RawValue, into: Directives) => void>> = {
  fault: (value, into) => {
    into.fault = fault(value);
  },
  "retry-after": (value, into) => {
    into.retryAfterSeconds = parseNumber("retry-after", value, "an integer >= 0", isNonNegativeInteger);
  },
  after: (value, into) => {
    into.faultAfterTokens = parseNumber("after", value, "an integer >= 0", isNonNegativeInteger);
  },
  ttft: (value, into) => {
    into.ttftMs = parseNumber("ttft", value, "a number of milliseconds >= 0", (parsed) => parsed >= 0);
  },
  tps: (value, into) => {
    into.tokensPerSecond = parseNumber("tps", value, "a number > 0", (parsed) => parsed > 0);
  },
  tokens: (value, into) => {
    into.textTokens = parseNumber("tokens", value, "an integer >= 1", (parsed) => Number.isInteger(parsed) && parsed >= 1);
  },
  tool: (value, into) => {
    into.forceToolUse = flag("tool", value);
  },
  "fail-first": (value, into) => {
    into.failFirst = parseNumber("fail-first", value, "an integer >= 0", isNonNegativeInteger);
  },
  "fault-model": (value, into) => {
    if (!value) throw invalid("fault-model", value, "a model id prefix");
    into.faultModelPrefix = value;
  },
};

const TEXT_DIRECTIVE = /\bsim:([a-z][a-z-]*)(?:=([\w.-]+))?/g;
const HEADER_PREFIX = "x-sim-";

function fromText(text: string): Map<string, RawValue> {
  return new Map(Array.from(text.matchAll(TEXT_DIRECTIVE), (match): [string, RawValue] => [match[1] ?? "", match[2] ?? null]));
}

function fromHeaders(headers: IncomingHttpHeaders): Map<string, RawValue> {
  const found = new Map<string, RawValue>();
  for (const [header, value] of Object.entries(headers)) {
    if (header.startsWith(HEADER_PREFIX)) {
      found.set(header.slice(HEADER_PREFIX.length), (Array.isArray(value) ? value[0] : value) ?? null);
    }
  }
  return found;
}

export function parseDirectives(lastUserText: string, headers: IncomingHttpHeaders): Directives {
  const directives: Directives = {
    fault: null,
    retryAfterSeconds: 1,
    faultAfterTokens: 5,
    ttftMs: null,
    tokensPerSecond: null,
    textTokens: null,
    forceToolUse: false,
    failFirst: null,
    faultModelPrefix: null,
  };
  const raw = new Map([...fromText(lastUserText), ...fromHeaders(headers)]);
  for (const [name, value] of raw) {
    const apply = APPLIERS[name];
    if (apply === undefined) throw new ApiError("invalid_request_error", `unknown simulator directive: ${name}`);
    apply(value, directives);
  }
  return directives;
}
