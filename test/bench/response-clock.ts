import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Server } from "node:http";

const FINISH = "http.server.response.finish";

interface FinishMessage {
  server: Server;
}

/**
 * Records performance.now() whenever an in-process HTTP server listening on `port`
 * finishes a response (Node's diagnostics channel, so the server is not touched).
 * Used with the Upstash bridge's `arrivals` to time each round trip from its side.
 */
export class ResponseClock {
  readonly finishes: number[] = [];
  readonly #listener = (message: unknown): void => {
    const address = (message as FinishMessage).server.address();
    if (typeof address === "object" && address?.port === this.port) this.finishes.push(performance.now());
  };

  constructor(readonly port: number) {
    subscribe(FINISH, this.#listener);
  }

  stop(): void {
    unsubscribe(FINISH, this.#listener);
  }
}
