import { APIError } from "@anthropic-ai/sdk";
import { expect } from "vitest";

/** The SDK's APIError a request failed with; anything else is rethrown, and success fails the test. */
export async function caught(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

export interface SseEvent {
  event: string;
  data: { type: string; [key: string]: unknown };
}

/** Parses an SSE body, insisting on the Anthropic API's exact `event: T\ndata: JSON\n\n` framing. */
export function parseSse(body: string): SseEvent[] {
  const frames = body.split("\n\n");
  expect(frames.pop()).toBe("");
  return frames.map((frame) => {
    const match = /^event: ([a-z_]+)\ndata: (\{.*\})$/.exec(frame);
    if (match === null) throw new Error(`bad SSE frame: ${JSON.stringify(frame)}`);
    const data = JSON.parse(match[2] ?? "") as SseEvent["data"];
    expect(data.type).toBe(match[1]);
    return { event: match[1] ?? "", data };
  });
}
