/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` in the text format, on loopback unless
 * told otherwise. It is a side door of the daemon: it must never stop a mount from working, so
 * `startMetricsServerOrWarn` turns a failure to listen into one warning line.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, OcifsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_METRICS_ADDR, formatMetricsAddress, parseMetricsAddress, type MetricsAddress } from './address.js';
import { createMetricsExporter, type ExporterOptions, type MetricsExporter } from './exporter.js';

export interface MetricsServerOptions extends ExporterOptions {
  /** `HOST:PORT` as given to `--metrics-addr` (parsed here), or parsed already. Default 127.0.0.1:9464. */
  addr?: string | MetricsAddress;
  logger?: Logger;
}

export interface MetricsServer {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: MetricsAddress;
  /** `http://HOST:PORT/metrics` */
  readonly url: string;
  /** Records the duration of one FUSE read, in seconds: call it from the read path. */
  observeReadLatency(seconds: number): void;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Listens and serves; rejects with a clear OcifsError (port in use, not allowed, no such address). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const logger = (options.logger ?? silentLogger).child({ component: 'metrics' });
  const wanted = typeof options.addr === 'object' ? options.addr : parseMetricsAddress(options.addr ?? DEFAULT_METRICS_ADDR);
  const exporter = createMetricsExporter(options);
  const server = createServer((req, res) => void handle(exporter, logger, req, res));
  // A scrape is one short request: keep nothing open for long.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await listen(server, wanted);
  const bound = server.address() as AddressInfo;
  const address = { host: wanted.host, port: bound.port };
  const url = `http://${formatMetricsAddress(address)}/metrics`;
  logger.info('serving Prometheus metrics', { url });

  let closing: Promise<void> | undefined;
  return {
    address,
    url,
    observeReadLatency: (seconds) => exporter.observeReadLatency(seconds),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/**
 * `startMetricsServer`, but a failure is logged as a warning and gives `undefined`: the mount
 * goes on without metrics rather than not at all.
 */
export async function startMetricsServerOrWarn(options: MetricsServerOptions): Promise<MetricsServer | undefined> {
  try {
    return await startMetricsServer(options);
  } catch (err) {
    const logger = options.logger ?? silentLogger;
    const hint = err instanceof OcifsError && err.hint ? ` (${err.hint})` : '';
    logger.warn(`metrics are off: ${err instanceof Error ? err.message : String(err)}${hint}; the mount works without them`);
    return undefined;
  }
}

function listen(server: Server, address: MetricsAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(err, address));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: address.host, port: address.port });
  });
}

/** Node's listen errors -> what the user should do about them. */
export function listenError(err: NodeJS.ErrnoException, address: MetricsAddress): OcifsError {
  const where = formatMetricsAddress(address);
  const other = `choose another with --metrics-addr HOST:PORT`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new InvalidArgumentError(`cannot serve metrics on ${where}: the port is in use`, { hint: `${other}, or stop what listens there`, cause: err });
    case 'EACCES':
    case 'EPERM':
      return new InvalidArgumentError(`cannot serve metrics on ${where}: not allowed to listen there`, {
        hint: `ports below 1024 need root; ${other}`,
        cause: err,
      });
    case 'EADDRNOTAVAIL':
      return new InvalidArgumentError(`cannot serve metrics on ${where}: ${address.host} is not an address of this machine`, { hint: other, cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InvalidArgumentError(`cannot serve metrics on ${where}: the host name ${address.host} does not resolve`, { hint: other, cause: err });
    default:
      return new OcifsError('LOCAL_IO', `cannot serve metrics on ${where}: ${err.message}`, { cause: err });
  }
}

async function handle(exporter: MetricsExporter, logger: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ocifs: metrics at /metrics\n');
    return;
  }
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  let body: string;
  try {
    body = await exporter.render();
  } catch (err) {
    logger.warn('collecting metrics failed', { err: err as Error });
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`collecting metrics failed: ${(err as Error).message}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': exporter.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
