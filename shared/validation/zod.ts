import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * Schemas use zod/mini, the tree-shakable build of zod (a few KB gzip, against over
 * 100 KB for the full build). Import it as `import * as z from "zod/mini"` and never
 * pass the namespace around as a value, or the bundler keeps all of it. Importing this
 * module installs English error messages.
 */
config(en());

/** Validation issues phrased for the person fixing the request. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
