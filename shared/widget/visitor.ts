/**
 * A widget visitor, as their limits know them: the session the gateway issued (never an
 * id the browser made up) and the keyed hash of the network they send from.
 */
export interface Visitor {
  id: string;
  networkId: string;
}
