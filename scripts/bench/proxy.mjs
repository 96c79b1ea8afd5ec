/**
 * A counting reverse proxy in front of the real registry (or nginx): every request is passed
 * through unchanged (Host header included, so upload `Location`s point back at the proxy) and
 * recorded with its method, path, status, Range and the body bytes each way. Clients that must be
 * counted (ocifs mounts in the GDAL and listing cases, GDAL /vsicurl/, rclone) go through it;
 * throughput cases talk to the registry directly, so the proxy's own CPU never slows them.
 *
 * Cases run one at a time, so "what did this command cost" is `since(mark())`.
 */
import { Agent, createServer, request } from 'node:http';
import { summarizeRequests } from './requests.mjs';

export async function startCountingProxy(upstreamHost, upstreamPort) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const entries = [];
  const server = createServer((req, res) => {
    const entry = { method: req.method, path: req.url, status: 0, range: req.headers.range, bytesIn: 0, bytesOut: 0 };
    entries.push(entry);
    const upstream = request(
      { host: upstreamHost, port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        entry.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.on('data', (chunk) => (entry.bytesOut += chunk.length));
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bench proxy: ${err.message}`);
    });
    req.on('data', (chunk) => (entry.bytesIn += chunk.length));
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  return {
    host: `127.0.0.1:${port}`,
    port,
    /** Position in the log: pass it to since(). */
    mark: () => entries.length,
    /** Summary of the requests recorded after `mark`. */
    since: (mark) => summarizeRequests(entries.slice(mark)),
    entriesSince: (mark) => entries.slice(mark),
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
