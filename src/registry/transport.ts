/**
 * The HTTP layer under the registry client: one undici Agent per client (keep-alive, TLS
 * options, bounded timeouts), single requests, the retry loop, capped body reads and the
 * counters in `stats`. Knows nothing of auth or of the distribution API.
 */
import { readFileSync } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { InvalidContentError, OcifsError, localIOError } from '../errors.js';
import type { Logger } from '../log.js';
import { isRetryableNetworkError, isRetryableStatus, nextRetryDelay, parseRetryAfter, type RetryPolicy } from './retry.js';
import { connectionError } from './wire-errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface ClientStats {
  requests: number;
  bytesDownloaded: number;
  bytesUploaded: number;
  retries: number;
}

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** A Buffer, or a factory called once per try so a stream body can be sent again. */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface Timeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** From sending the request to the answer's headers. */
  headersMs: number;
  /** Longest pause between two pieces of an answer's body. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({ connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 });

export interface AgentOptions {
  insecure?: boolean;
  caFile?: string;
  connections?: number;
  timeouts: Timeouts;
}

export function createAgent(options: AgentOptions): Agent {
  let ca: string[] | undefined;
  if (options.caFile) {
    try {
      // `ca` replaces Node's bundled roots, so keep them alongside the extra CA.
      ca = [...rootCertificates, readFileSync(options.caFile, 'utf8')];
    } catch (err) {
      throw localIOError(err, `cannot read the CA file ${options.caFile}`);
    }
  }
  return new Agent({
    connections: options.connections ?? null,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeouts.headersMs,
    bodyTimeout: options.timeouts.bodyMs,
    connect: {
      timeout: options.timeouts.connectMs,
      rejectUnauthorized: !options.insecure,
      ...(ca ? { ca } : {}),
    },
  });
}

export function header(res: { headers: HttpResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export interface TransportOptions {
  /** For messages: the registry as the user wrote it. */
  registry: string;
  agent: Dispatcher;
  retry: RetryPolicy;
  logger: Logger;
  userAgent: string;
  now?: () => number;
  random?: () => number;
}

/** Counts bytes flowing through into a counter. */
class CountingStream extends Transform {
  constructor(private readonly count: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.count(chunk.length);
    callback(null, chunk);
  }
}

export class HttpTransport {
  readonly stats: ClientStats = { requests: 0, bytesDownloaded: 0, bytesUploaded: 0, retries: 0 };
  readonly registry: string;
  readonly logger: Logger;
  private readonly agent: Dispatcher;
  private readonly policy: RetryPolicy;
  private readonly userAgent: string;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(options: TransportOptions) {
    this.registry = options.registry;
    this.agent = options.agent;
    this.policy = options.retry;
    this.logger = options.logger;
    this.userAgent = options.userAgent;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** One try. Connection failures are thrown as undici/Node raise them (see `withRetries`). */
  async once(req: HttpRequest): Promise<HttpResponse> {
    throwIfAborted(req.signal);
    this.stats.requests++;
    let body: Buffer | Readable | undefined;
    if (Buffer.isBuffer(req.body)) {
      body = req.body;
      this.stats.bytesUploaded += req.body.length;
    } else if (req.body) {
      body = chain(req.body(), new CountingStream((n) => (this.stats.bytesUploaded += n)));
    }
    const res = await request(req.url, {
      dispatcher: this.agent,
      method: req.method,
      headers: { 'user-agent': this.userAgent, ...req.headers },
      ...(body !== undefined ? { body } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    this.logger.debug('registry request', { method: req.method, url: redactUrl(req.url), status: res.statusCode });
    return { status: res.statusCode, url: req.url, headers: res.headers, body: res.body };
  }

  /**
   * Runs `attempt` until it gives an answer that is not worth retrying, or the policy runs out.
   * Retries connection failures, 408, 429 and 5xx (honouring Retry-After) only when `retry` is
   * true: a caller sending a non-repeatable upload step passes false and recovers by itself.
   * The last retryable answer is returned as is; a connection failure becomes UNREACHABLE.
   */
  async withRetries(
    options: { retry: boolean; signal?: AbortSignal | undefined },
    attempt: () => Promise<HttpResponse>,
  ): Promise<HttpResponse> {
    const started = this.now();
    for (let tries = 1; ; tries++) {
      let res: HttpResponse;
      try {
        res = await attempt();
      } catch (err) {
        if (options.signal?.aborted) throw abortedError(options.signal);
        if (err instanceof OcifsError) throw err;
        const delay = options.retry && isRetryableNetworkError(err) ? this.delay(tries, started, undefined) : undefined;
        if (delay === undefined) throw this.mapConnectionError(err);
        this.logger.debug('retrying after a connection failure', { error: err as Error, tries, delayMs: delay });
        await this.pause(delay, options.signal);
        continue;
      }
      if (options.retry && isRetryableStatus(res.status)) {
        const retryAfter = parseRetryAfter(header(res, 'retry-after'), Date.now());
        const delay = this.delay(tries, started, retryAfter);
        if (delay !== undefined) {
          await discard(res);
          this.logger.debug('retrying after an error answer', { status: res.status, tries, delayMs: delay });
          await this.pause(delay, options.signal);
          continue;
        }
      }
      return res;
    }
  }

  mapConnectionError(err: unknown): Error {
    if (err instanceof OcifsError) return err;
    return connectionError(err, this.registry) ?? (err instanceof Error ? err : new Error(String(err)));
  }

  /** The whole body, failing with INVALID_CONTENT past `cap` bytes (checked before and while reading). */
  async readBody(res: HttpResponse, cap: number, what: string): Promise<Buffer> {
    const declared = Number(header(res, 'content-length'));
    if (Number.isFinite(declared) && declared > cap) {
      dropBody(res);
      throw new InvalidContentError(`${what} is ${declared} bytes, more than the ${cap} allowed`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        this.stats.bytesDownloaded += chunk.length;
        if (total > cap) {
          dropBody(res);
          throw new InvalidContentError(`${what} is more than the ${cap} bytes allowed`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw this.mapConnectionError(err);
    }
    return Buffer.concat(chunks, total);
  }

  private delay(tries: number, started: number, retryAfterMs: number | undefined): number | undefined {
    const delay = nextRetryDelay(
      this.policy,
      { triesMade: tries, elapsedMs: this.now() - started, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      this.random,
    );
    if (delay !== undefined) this.stats.retries++;
    return delay;
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleepFor(ms, undefined, signal ? { signal } : {});
    } catch {
      throw abortedError(signal);
    }
  }
}

/** Abandons a body we will not read (closing its connection); its abort error has nowhere to go. */
export function dropBody(res: HttpResponse): void {
  res.body.on('error', () => undefined);
  if (!res.body.destroyed) res.body.destroy();
}

/**
 * `from.pipe(to)` that also carries errors forward and destroys `from` when `to` is torn down
 * (a failed request must not leave the source file open).
 */
export function chain<T extends Transform>(from: Readable, to: T): T {
  from.on('error', (err) => to.destroy(err));
  to.on('close', () => {
    if (!from.destroyed) from.destroy();
  });
  return from.pipe(to);
}

/** Reads and drops a body so the connection can be reused. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    /* a broken body on an answer we are dropping anyway */
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

export function abortedError(signal: AbortSignal | undefined): OcifsError {
  return new OcifsError('ABORTED', 'the request was cancelled', { cause: signal?.reason });
}

/** Upload URLs carry session state; signed URLs carry signatures: keep query strings out of logs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}
