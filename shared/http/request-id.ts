/** A gateway request id: sortable by time, unique enough to grep logs by. */
export function newRequestId(): string {
  const time = Date.now().toString(36);
  const random = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const byte of random) hex += byte.toString(16).padStart(2, "0");
  return `egr_${time}${hex}`;
}
