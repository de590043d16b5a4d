import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ServedRequest {
  url: string;
  range: string | undefined;
}

export interface ModelServer {
  url: string;
  requests: ServedRequest[];
  /** cut the connection after this many body bytes, for the next `times` requests */
  cutAfter(bytes: number, times?: number): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that serves files like the Hugging Face resolve URLs do:
 * GET /<file>, byte ranges with 206 + Content-Range, 404 for anything unknown.
 */
export async function startModelServer(files: Record<string, Buffer>): Promise<ModelServer> {
  const requests: ServedRequest[] = [];
  let cut: { bytes: number; times: number } | undefined;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    requests.push({ url: req.url ?? "", range: req.headers.range });
    const body = files[name];
    if (!body) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "content-length": body.length - start,
        "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
        "accept-ranges": "bytes",
      });
    } else {
      res.writeHead(200, { "content-length": body.length, "accept-ranges": "bytes", "content-type": "application/octet-stream" });
    }
    const part = body.subarray(start);
    if (cut && cut.times > 0) {
      cut.times--;
      res.write(part.subarray(0, cut.bytes), () => res.socket?.destroy());
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutAfter(bytes, times = 1) {
      cut = { bytes, times };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
