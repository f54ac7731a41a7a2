import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * Schemas use zod/mini, the tree-shakable build of zod (a few KB gzip, against over
 * 100 KB for the full build). Import it as `import * as z from "zod/mini"` and never
 * pass the namespace around as a value, or the bundler keeps all of it. Importing this
 * module installs English error messages.
 */
config(en());

/** The parts of a zod issue the messages below use. */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  /** Per-branch issues of an `invalid_union` issue. */
  readonly errors?: ReadonlyArray<ReadonlyArray<IssueLike>>;
}

/** Issues named in one message; the rest are counted. */
const MAX_DESCRIBED_ISSUES = 3;

/** Validation issues phrased for the person fixing the request. */
export function describeIssues(issues: ReadonlyArray<IssueLike>): string {
  const flat = flattenIssues(issues);
  const described = flat
    .slice(0, MAX_DESCRIBED_ISSUES)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "body"}: ${issue.message}`)
    .join("; ");
  const more = flat.length - MAX_DESCRIBED_ISSUES;
  return more > 0 ? `${described} (and ${more} more ${more === 1 ? "problem" : "problems"})` : described;
}

/** Issues as path and message, with failed unions explained (below). */
export function flattenIssues(issues: ReadonlyArray<IssueLike>): Array<{ path: PropertyKey[]; message: string }> {
  return issues.flatMap((issue) => explainUnion(issue, []));
}

/**
 * A union that failed reports one generic issue. When exactly one branch got past its
 * type check (its issues all lie deeper, e.g. the array branch of "string or array of
 * blocks" failed on a block's field), that branch's issues say what is wrong; use them.
 */
function explainUnion(issue: IssueLike, prefix: readonly PropertyKey[]): Array<{ path: PropertyKey[]; message: string }> {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors) {
    const deeper = issue.errors.filter((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0));
    if (deeper.length === 1) return deeper[0]!.flatMap((inner) => explainUnion(inner, path));
  }
  return [{ path, message: issue.message }];
}

/**
 * An error map that says what a field should hold and what it got: "expected X, got Y",
 * or "required: expected X" when the field is missing. Pass it as a schema's or a
 * check's `error` param.
 */
export function expected(what: string): (issue: { readonly input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? `required: expected ${what}` : `expected ${what}, got ${describeValue(issue.input)}`);
}

/** A short, safe description of a JSON value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length}`;
  switch (typeof value) {
    case "string":
      return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
    case "number":
      return String(value);
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
