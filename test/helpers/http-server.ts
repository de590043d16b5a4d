import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Route = (req: IncomingMessage, res: ServerResponse, hit: number, body: string) => void;

export interface TestServer {
  url: string;
  requests: SeenRequest[];
  hits(path: string): number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1; each route sees how many times it was hit (1-based). */
export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body });
      const hit = (counts.get(path) ?? 0) + 1;
      counts.set(path, hit);
      const route = routes[path];
      if (!route) res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      else route(req, res, hit, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves `body` with an ETag, answering 304 to a matching If-None-Match. */
export function mediaRoute(body: Buffer, contentType = "audio/wav", etag = '"v1"'): Route {
  return (req, res) => {
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { "content-type": contentType, "content-length": body.length, etag }).end(body);
  };
}
