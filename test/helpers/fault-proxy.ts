/**
 * A fault-injecting HTTP proxy in front of the real registry, for retry and robustness tests:
 * fail chosen requests with a status (and Retry-After), a connection reset, a delay, or a reset
 * after the registry has processed the request (the client never learns it succeeded); ignore
 * Range (the registry then sends 200 with the whole blob, as some registries do); drop
 * Accept-Ranges; split tag lists into `Link` pages (distribution 2.8 ignores `n` on tags, newer
 * registries page them). Everything else passes through untouched, Host included, so the
 * registry's Location URLs keep pointing at the proxy.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultAction =
  /** An answer made up by the proxy; `chunked` leaves out Content-Length. */
  | { status: number; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean }
  | { reset: true }
  | { delayMs: number }
  /** Forward the request, let the registry finish it, then reset the client's connection. */
  | { resetAfterForward: true }
  /** Forward, but reset the connection after this many bytes of the answer's body. */
  | { cutAfterBytes: number };

export interface FaultRule {
  method?: string;
  /** Matched against the path and query. */
  path?: RegExp;
  /** Matching requests to let through before the fault hits. Default 0. */
  skip?: number;
  /** How many matching requests the fault hits. Default 1. */
  times?: number;
  action: FaultAction;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  fault?: FaultAction;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT` */
  host: string;
  url: string;
  requests: SeenRequest[];
  fault(rule: FaultRule): void;
  clearFaults(): void;
  ignoreRange: boolean;
  dropAcceptRanges: boolean;
  /** Page size for tag lists (undefined: pass through). */
  tagPageSize: number | undefined;
  stop(): Promise<void>;
}

interface ActiveRule extends FaultRule {
  seen: number;
  hit: number;
}

export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  const rules: ActiveRule[] = [];
  const sockets = new Set<Socket>();

  const proxy: FaultProxy = {
    host: '',
    url: '',
    requests: [],
    fault: (rule) => rules.push({ ...rule, seen: 0, hit: 0 }),
    clearFaults: () => void rules.splice(0),
    ignoreRange: false,
    dropAcceptRanges: false,
    tagPageSize: undefined,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  function matchFault(req: IncomingMessage): FaultAction | undefined {
    for (const rule of rules) {
      if (rule.method && rule.method !== req.method) continue;
      if (rule.path && !rule.path.test(req.url ?? '')) continue;
      rule.seen++;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      if (rule.hit >= (rule.times ?? 1)) continue;
      rule.hit++;
      return rule.action;
    }
    return undefined;
  }

  function forward(req: IncomingMessage, res: ServerResponse, after?: (status: number) => boolean, cutAfter?: number): void {
    const headers = { ...req.headers };
    if (proxy.ignoreRange) delete headers.range;
    const tagPage = proxy.tagPageSize !== undefined && req.method === 'GET' ? /^\/v2\/(.+)\/tags\/list(\?.*)?$/.exec(req.url ?? '') : null;
    const upstreamReq = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: tagPage ? `/v2/${tagPage[1]}/tags/list` : req.url, headers },
      (up) => {
        if (after && !after(up.statusCode ?? 0)) {
          up.resume();
          return;
        }
        const outHeaders = { ...up.headers };
        if (proxy.dropAcceptRanges) delete outHeaders['accept-ranges'];
        if (tagPage && up.statusCode === 200) {
          paginateTags(up, res, outHeaders, tagPage[1]!, new URLSearchParams(tagPage[2] ?? ''), proxy.tagPageSize!);
          return;
        }
        res.writeHead(up.statusCode ?? 502, outHeaders);
        if (cutAfter === undefined) {
          up.pipe(res);
          return;
        }
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= cutAfter) return;
          const piece = chunk.subarray(0, cutAfter - sent);
          sent += piece.length;
          res.write(piece, () => {
            if (sent >= cutAfter) {
              up.destroy();
              req.socket.destroy();
            }
          });
        });
        up.on('end', () => res.end());
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  }

  const server = createServer((req, res) => {
    const fault = matchFault(req);
    proxy.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, ...(fault ? { fault } : {}) });
    if (!fault) return forward(req, res);
    if ('reset' in fault) {
      req.socket.destroy();
      return;
    }
    if ('status' in fault) {
      req.resume();
      const body = Buffer.from(fault.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] }));
      const headers: Record<string, string> = { 'content-type': 'application/json', ...fault.headers };
      if (fault.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] ??= String(body.length);
      res.writeHead(fault.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if ('cutAfterBytes' in fault) return forward(req, res, undefined, fault.cutAfterBytes);
    if ('delayMs' in fault) {
      const timer = setTimeout(() => forward(req, res), fault.delayMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    forward(req, res, () => {
      req.socket.destroy();
      return false;
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}

/** Pages a full tag list as the distribution spec describes (`n`, `last`, `Link: <...>; rel="next"`). */
function paginateTags(
  up: IncomingMessage,
  res: ServerResponse,
  headers: IncomingMessage['headers'],
  name: string,
  query: URLSearchParams,
  defaultPage: number,
): void {
  const chunks: Buffer[] = [];
  up.on('data', (c: Buffer) => chunks.push(c));
  up.on('end', () => {
    const all = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tags: string[] | null }).tags ?? [];
    const sorted = [...all].sort();
    const n = Number(query.get('n') ?? defaultPage) || defaultPage;
    const last = query.get('last');
    const rest = last === null ? sorted : sorted.filter((t) => t > last);
    const page = rest.slice(0, n);
    const body = Buffer.from(JSON.stringify({ name, tags: page }));
    const out: Record<string, string | string[] | undefined> = { ...headers, 'content-length': String(body.length) };
    if (rest.length > n) out.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
    res.writeHead(200, out);
    res.end(body);
  });
}
