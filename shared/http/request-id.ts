import { toHex } from "../text/bytes.js";

/** A gateway request id: sortable by time, unique enough to grep logs by. */
export function newRequestId(): string {
  return `egr_${Date.now().toString(36)}${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
}
