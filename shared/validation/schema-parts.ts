import * as z from "zod/mini";
import { expected, flattenIssues } from "./zod.js";
import { MAX_JSON_DEPTH, MAX_MODEL_ID_LENGTH, tooDeep } from "./limits.js";

/** An array stops being checked after this many bad items (see boundedArray). */
const MAX_BAD_ITEMS_REPORTED = 3;

/**
 * An array whose items are checked one by one, stopping after a few bad ones. A plain
 * z.array collects an issue per bad item and merges them with `push(...issues)`, which
 * overflows the stack (a RangeError, so a 500) on an array of a few hundred thousand bad
 * items, well within the body size limit; it also wastes time on an answer of 3 issues.
 * The length limits are checked first, so an oversized array fails fast too.
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

/**
 * Model ids as the API and its cloud variants spell them ("claude-sonnet-4-6",
 * "claude-opus-4-1@20250805", "anthropic.claude-...-v1:0", inference-profile ARNs) or
 * "auto". The id ends up in response headers, so nothing outside this set is allowed.
 */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
const MODEL_EXPECTED = `a model id such as "claude-sonnet-4-6" or "auto" (up to ${MAX_MODEL_ID_LENGTH} letters, digits and . _ - : @ / +)`;

export const modelId = z.string({ error: expected(MODEL_EXPECTED) }).check(
  z.minLength(1, { error: expected(MODEL_EXPECTED) }),
  z.maxLength(MAX_MODEL_ID_LENGTH, { error: expected(MODEL_EXPECTED) }),
  z.regex(MODEL_ID, { error: expected(MODEL_EXPECTED) }),
);

export function nonEmptyString(what: string) {
  return z.string({ error: expected(what) }).check(z.minLength(1, { error: expected(what) }));
}

export function intBetween(min: number, max: number) {
  const what = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return z.int({ error: expected(what) }).check(z.minimum(min, { error: expected(what) }), z.maximum(max, { error: expected(what) }));
}

export function numberBetween(min: number, max: number) {
  const what = `a number from ${min} to ${max}`;
  return z.number({ error: expected(what) }).check(z.minimum(min, { error: expected(what) }), z.maximum(max, { error: expected(what) }));
}

/** Refuses JSON nested deeper than MAX_JSON_DEPTH anywhere in a request. */
export const boundedDepth = z.superRefine((request: unknown, ctx) => {
  const path = tooDeep(request, MAX_JSON_DEPTH);
  if (path) {
    ctx.addIssue({
      code: "custom",
      path: path.slice(0, 6),
      input: undefined,
      message: `JSON nested more than ${MAX_JSON_DEPTH} levels deep; flatten this value`,
    });
  }
});


type PatchShape<Shape extends z.core.$ZodShape> = {
  [K in keyof Shape]: z.ZodMiniOptional<Shape[K] extends z.ZodMiniDefault<infer Inner> ? Inner : Shape[K]>;
};

/**
 * The schema of a partial update of `schema`: every field optional and without its
 * default. (z.partial keeps defaults, so an absent field would overwrite the stored
 * value with its default.)
 */
export function patchSchema<Shape extends z.core.$ZodShape>(schema: z.ZodMiniObject<Shape>) {
  const fields = Object.entries(schema.def.shape).map(([key, field]) => [
    key,
    z.optional(field instanceof z.ZodMiniDefault ? field.def.innerType : field),
  ]);
  return z.strictObject(Object.fromEntries(fields) as PatchShape<Shape>);
}
