/**
 * Providers answer with their own model names (or none); clients must see edgegate's.
 * These rewrite the `model` of a whole answer and of a stream's `message_start`.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseRecord(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** A non-streaming answer's JSON with `model` set; text that is not a JSON object is left as it is. */
export function messageWithModel(json: string, model: string): string {
  const message = parseRecord(json);
  if (message === null) return json;
  message.model = model;
  return JSON.stringify(message);
}

/** A `message_start` event's data with `message.model` set; anything else is left as it is. */
export function messageStartWithModel(json: string, model: string): string {
  const event = parseRecord(json);
  if (event === null || event.type !== "message_start" || !isRecord(event.message)) return json;
  event.message.model = model;
  return JSON.stringify(event);
}
