/**
 * The demo page: a stand-in for a tenant's website, on its own origin, embedding the
 * widget the way a tenant would, with one script tag and a publishable key.
 */
import { type LocalServer, listenLocal } from "../http-server.js";

export interface DemoSite extends LocalServer {
  /** The page's origin, which the widget key must allow. */
  origin: string;
  /** Embeds this key from now on (the key is created after the site's origin is known). */
  useKey(publishableKey: string): void;
}

/** A tent, the demo shop's icon. */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 2 1 14h14z" fill="#3b4cca"/><path d="M8 7l-3 7h6z" fill="#f7f5f0"/></svg>`;

/** The nonce of the demo page's own style, for a Content-Security-Policy that allows it. */
export const DEMO_STYLE_NONCE = "demo-page-style";

export async function startDemoSite(options: { gatewayUrl: string; port?: number; contentSecurityPolicy?: string }): Promise<DemoSite> {
  let key = "";
  const server = await listenLocal(options.port ?? 0, (request, response) => {
    if (request.url === "/favicon.ico") {
      // Browsers ask for it on every page: answered, so the console shows no 404.
      response.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "max-age=86400" }).end(FAVICON);
      return;
    }
    if (request.url !== "/" && request.url !== "/index.html") {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found");
      return;
    }
    const policy = options.contentSecurityPolicy ? { "content-security-policy": options.contentSecurityPolicy } : {};
    response
      .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...policy })
      .end(page(options.gatewayUrl, key));
  });
  return { ...server, origin: server.url, useKey: (publishableKey) => void (key = publishableKey) };
}

function page(gatewayUrl: string, key: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme Outdoor: demo shop with the edgegate widget</title>
  <style nonce="${DEMO_STYLE_NONCE}">
    body { margin: 0; font: 16px/1.6 Georgia, serif; color: #222; background: #f7f5f0; }
    main { max-width: 720px; margin: 0 auto; padding: 48px 24px; }
    h1 { font-size: 2.2rem; margin-bottom: 0.2em; }
    .note { background: #fff; border-left: 4px solid #3b4cca; padding: 12px 16px; }
    code { font-size: 0.9em; }
  </style>
</head>
<body>
  <main>
    <h1>Acme Outdoor</h1>
    <p>Tents, stoves and everything for a night under the stars. This page stands in for a
    tenant's website: the chat in the corner is the edgegate widget, added with one tag.</p>
    <p class="note">Embedded with:<br><code>&lt;script src="${gatewayUrl}/widget.js" data-key="${key}" async&gt;&lt;/script&gt;</code></p>
  </main>
  <script src="${gatewayUrl}/widget.js" data-key="${key}" async></script>
</body>
</html>`;
}
