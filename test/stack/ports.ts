import { createServer } from "node:net";

/**
 * Ask the OS for a currently free TCP port on `host` (default 127.0.0.1).
 *
 * The port is released before this resolves, so another process could in
 * principle grab it first; callers that spawn servers should retry on
 * "address already in use".
 */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error(`findFreePort: unexpected server address ${String(addr)}`));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
