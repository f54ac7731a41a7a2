import type { WidgetSession } from "./session.js";

/**
 * A widget visitor, as their limits know them: the session the gateway issued (never an
 * id the browser made up) and the keyed hash of their network.
 */
export interface Visitor {
  id: string;
  networkId: string;
}

export function visitorOf(session: WidgetSession): Visitor {
  return { id: session.sessionId, networkId: session.networkId };
}
