// Serves ui/portal/dist the way `gradphoto serve` does (hashed assets, SPA fallback for
// /c/<code>) and forwards /api/* to a real gradphoto server. Used by the browser tests when
// PORTAL_SERVE_DIST=1, to test a freshly built portal without rebuilding the server binary.

import { createServer, request as httpRequest } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { gzipSync } from "node:zlib";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/** Listens on a free port; `setTarget(url)` points /api at the real server once it runs. */
export async function startDistServer(distDir) {
  let target = null;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/api/") || url.pathname === "/healthz") {
      if (!target) {
        res.writeHead(503).end();
        return;
      }
      const t = new URL(target);
      const upstream = httpRequest(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(distDir, rel);
    const isFile = await stat(file).then((s) => s.isFile()).catch(() => false);
    if (!isFile) file = join(distDir, "index.html");
    try {
      let body = await readFile(file);
      const immutable = file.includes(`${join(distDir, "assets")}`);
      const type = TYPES[extname(file)] ?? "application/octet-stream";
      const headers = {
        "Content-Type": type,
        "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        Vary: "Accept-Encoding",
      };
      // Text assets go out gzip-compressed, as the server's compression layer sends them.
      if (process.env.PORTAL_DIST_GZIP !== "0" && /gzip/.test(req.headers["accept-encoding"] ?? "") && !type.startsWith("image/png")) {
        body = gzipSync(body);
        headers["Content-Encoding"] = "gzip";
      }
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (u) => (target = u),
    close: () => new Promise((r) => server.close(r)),
  };
}
