/** Size limits of requests, and the nesting check, shared by every request schema. */

/** Largest max_tokens any current model accepts; larger values are surely a mistake. */
export const MAX_OUTPUT_TOKENS = 128_000;
/** The Messages API's own limit on messages in one request. */
export const MAX_MESSAGES = 100_000;
export const MAX_TOOLS = 1_000;
export const MAX_MODEL_ID_LENGTH = 256;
/**
 * How deeply JSON may nest anywhere in a request. Real requests (tool schemas, tool
 * inputs) stay far below this. Deeper values only cost: re-serialising a body nested
 * millions of levels deep (the token estimate, the SDK's request body) takes seconds of
 * CPU in workerd, and overflows the stack past a few thousand levels in Node or in
 * structuredClone.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * The path to the first container nested deeper than `maxDepth` (the value itself is
 * level 1), or null. Recursive, but never deeper than `maxDepth` calls.
 */
export function tooDeep(value: unknown, maxDepth: number): PropertyKey[] | null {
  return typeof value === "object" && value !== null ? deeperThan(value, maxDepth - 1) : null;
}

/** The path below `container` to a container more than `levels` levels down, or null. */
function deeperThan(container: object, levels: number): PropertyKey[] | null {
  if (Array.isArray(container)) {
    for (let index = 0; index < container.length; index++) {
      const child: unknown = container[index];
      if (typeof child !== "object" || child === null) continue;
      if (levels === 0) return [index];
      const below = deeperThan(child, levels - 1);
      if (below) return [index, ...below];
    }
    return null;
  }
  const record = container as Readonly<Record<string, unknown>>;
  for (const key in record) {
    const child = record[key];
    if (typeof child !== "object" || child === null) continue;
    if (levels === 0) return [key];
    const below = deeperThan(child, levels - 1);
    if (below) return [key, ...below];
  }
  return null;
}
