import * as z from "zod/mini";
import { expected, flattenIssues } from "../validation/zod.js";

/** An array stops being checked after this many bad items. */
const MAX_BAD_ITEMS_REPORTED = 3;

/**
 * An array whose items are checked one by one, stopping after a few bad ones: the same
 * guard as the Messages schema's own (shared/validation/messages.ts, not exported). A
 * plain z.array collects an issue per bad item and merges them with `push(...issues)`,
 * which overflows the stack on an array of a few hundred thousand bad items, well within
 * the body size limit. The length limits are checked first, so an oversized array fails
 * fast too.
 */
export function boundedArray<Item extends z.ZodMiniType>(item: Item, limits: { min?: number; max?: number; what: string }) {
  const error = expected(limits.what);
  const min = limits.min ?? 0;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  return z.pipe(
    z.custom<unknown[]>((value) => Array.isArray(value), { error }).check(
      z.minLength(min, { error }),
      z.maxLength(max, { error }),
      z.superRefine((items: unknown[], ctx) => {
        if (items.length < min || items.length > max) return;
        let bad = 0;
        for (let index = 0; index < items.length && bad < MAX_BAD_ITEMS_REPORTED; index++) {
          const result = item.safeParse(items[index]);
          if (result.success) continue;
          bad++;
          for (const issue of flattenIssues(result.error.issues)) {
            ctx.addIssue({ code: "custom", path: [index, ...issue.path], message: issue.message, input: undefined });
          }
        }
      }),
    ),
    // The items passed the check above; this only gives the array its item type.
    z.custom<Array<z.output<Item>>>(),
  );
}
