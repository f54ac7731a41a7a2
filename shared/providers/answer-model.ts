import { isRecord, jsonObject } from "./json.js";

/**
 * Providers answer with their own model names (or none); clients must see edgegate's.
 * These rewrite the `model` of a whole answer and of a stream's `message_start`.
 */

/** A non-streaming answer's JSON with `model` set; text that is not a JSON object is left as it is. */
export function messageWithModel(json: string, model: string): string {
  const message = jsonObject(json);
  if (message === null) return json;
  message.model = model;
  return JSON.stringify(message);
}

/** A `message_start` event's data with `message.model` set; anything else is left as it is. */
export function messageStartWithModel(json: string, model: string): string {
  const event = jsonObject(json);
  if (event === null || event.type !== "message_start" || !isRecord(event.message)) return json;
  event.message.model = model;
  return JSON.stringify(event);
}
