/**
 * Blob GETs redirected to another origin, as Docker Hub (Cloudflare), GHCR and registries on S3
 * do. distribution only has `storage.redirect` for cloud drivers, so a small proxy sits in front
 * of the real registry instead: it checks each blob GET against the registry (HEAD with the
 * client's own Authorization, so 401/404 come from the registry itself) and answers 307 to a
 * second loopback origin with a one-off signed URL. That origin behaves like S3 with a
 * presigned URL: it refuses any request carrying Authorization (400, as S3 does when a request
 * has both a signature and an Authorization header), refuses unknown signatures (403), can be
 * told to expire the next URL (403, as an expired presigned URL), and serves the blob bytes,
 * Range included, which it reads from the registry with its own credentials. All other
 * requests pass through the proxy untouched.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface OriginRequest {
  path: string;
  hadAuthorization: boolean;
  range: string | undefined;
  status: number;
}

export interface RedirectingRegistry {
  /** `127.0.0.1:PORT` of the proxy: what the client talks to. */
  host: string;
  /** The redirect target origin, `http://127.0.0.1:PORT`. */
  originUrl: string;
  originRequests: OriginRequest[];
  /** Blob GETs answered with a redirect. */
  redirects: number;
  /** The next `n` origin requests answer 403 as an expired signed URL. */
  expireNext(n?: number): void;
  stop(): Promise<void>;
}

export interface RedirectOptions {
  /** Credentials the origin uses to read from the registry (as a storage backend needs none from the client). */
  originCredentials?: { username: string; password: string };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function track(server: Server, sockets: Set<Socket>): void {
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

export async function startRedirectingRegistry(registryUrl: string, options: RedirectOptions = {}): Promise<RedirectingRegistry> {
  const upstream = new URL(registryUrl);
  const sockets = new Set<Socket>();
  const signatures = new Map<string, string>(); // sig -> registry path of the blob
  let expire = 0;

  const result: RedirectingRegistry = {
    host: '',
    originUrl: '',
    originRequests: [],
    redirects: 0,
    expireNext: (n = 1) => void (expire += n),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([proxy, origin].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };

  function pass(req: IncomingMessage, res: ServerResponse): void {
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  const proxy = createServer((req, res) => {
    const blob = req.method === 'GET' && /^\/v2\/.+\/blobs\/[a-z0-9]+:[a-f0-9]+$/.test(req.url ?? '');
    if (!blob) return pass(req, res);
    // Ask the registry first, with the client's credentials: only a blob it would serve is redirected.
    // (Range is left out: a HEAD with Range answers 206.)
    const { range: _range, ...checkHeaders } = req.headers;
    const check = httpRequest({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path: req.url, headers: checkHeaders }, (answer) => {
      answer.resume();
      // Not servable (401 challenge, 404 ...): let the registry answer the GET itself, body and all.
      if (answer.statusCode !== 200) return pass(req, res);
      const sig = randomBytes(12).toString('hex');
      signatures.set(sig, req.url!);
      result.redirects++;
      res.writeHead(307, { location: `${result.originUrl}/storage/blob?X-Signature=${sig}`, 'content-length': '0' });
      res.end();
    });
    check.on('error', () => res.destroy());
    check.end();
  });

  const origin = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const record = (status: number) =>
      result.originRequests.push({ path: url.pathname, hadAuthorization: req.headers.authorization !== undefined, range: req.headers.range, status });
    const refuse = (status: number, code: string) => {
      record(status);
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<Error><Code>${code}</Code></Error>`);
    };
    if (req.headers.authorization !== undefined) return refuse(400, 'InvalidArgument');
    const path = signatures.get(url.searchParams.get('X-Signature') ?? '');
    if (!path) return refuse(403, 'SignatureDoesNotMatch');
    if (expire > 0) {
      expire--;
      signatures.delete(url.searchParams.get('X-Signature')!);
      return refuse(403, 'AccessDenied');
    }
    const headers: Record<string, string> = {};
    if (req.headers.range) headers.range = req.headers.range;
    if (options.originCredentials) {
      const { username, password } = options.originCredentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (answer) => {
      record(answer.statusCode ?? 502);
      const out: Record<string, string | string[] | undefined> = {};
      for (const h of ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag']) {
        if (answer.headers[h] !== undefined) out[h] = answer.headers[h];
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  });

  track(proxy, sockets);
  track(origin, sockets);
  result.host = `127.0.0.1:${await listen(proxy)}`;
  result.originUrl = `http://127.0.0.1:${await listen(origin)}`;
  return result;
}
