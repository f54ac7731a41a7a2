/** JSON.parse that answers undefined instead of throwing, for text from the upstream. */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
