/**
 * RegistryClient: one registry (`docker.io`, `127.0.0.1:5000`), its connection pool, its
 * credentials and tokens, its counters. Repositories are opened with `repository(name)`.
 */
import { isLocalRegistry, registryEndpoint } from '../ref/reference.js';
import { InvalidContentError, OcifsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Agent } from 'undici';
import { Authenticator } from './auth.js';
import type { CredentialProvider } from './credentials.js';
import { DockerConfigCredentials } from './docker-config.js';
import { nextPageUrl } from './link.js';
import { MAX_LIST_PAGE_BYTES, RepositoryTarget } from './repository.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { CATALOG_SCOPE } from './scope.js';
import { RegistrySession } from './session.js';
import { DEFAULT_TIMEOUTS, HttpTransport, createAgent, discard, type ClientStats, type Timeouts } from './transport.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX, type UploadContext } from './upload.js';
import { MemoryUploadStateStore, type UploadStateStore } from './upload-state.js';
import type { RequestSubject } from './wire-errors.js';

export interface RegistryClientOptions {
  /** Plain HTTP. Default: true for localhost, 127.x and [::1] (as ORAS), false elsewhere. */
  plainHttp?: boolean;
  /** TLS without certificate verification. */
  insecure?: boolean;
  /** An extra CA certificate (PEM) to trust besides the system's. */
  caFile?: string;
  /** Default: Docker's config.json ($DOCKER_CONFIG or ~/.docker). */
  credentials?: CredentialProvider;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  userAgent?: string;
  /** Connections per origin (undici pool size). */
  connections?: number;
  /** Where unfinished chunked uploads are remembered. Default: in memory, for this client's life. */
  uploadState?: UploadStateStore;
  /** Chunk size of chunked uploads (raised to the registry's OCI-Chunk-Min-Length). */
  chunkSize?: number;
  /** Blobs up to this size are uploaded in one PUT. */
  monolithicMax?: number;
  /** Connect, headers and body-idle timeouts per request. */
  timeouts?: Partial<Timeouts>;
}

export type RangeSupport = 'unknown' | 'supported' | 'ignored';

export const DEFAULT_USER_AGENT = 'ocifs/0.1';

export class RegistryClient {
  readonly registry: string;
  /** Whether this registry honours Range (learned from answers): 'ignored' means it sends whole blobs. */
  rangeSupport: RangeSupport = 'unknown';
  /** @internal the HTTP session; RepositoryTarget's way in. */
  readonly session: RegistrySession;
  private readonly agent: Agent;
  private readonly options: RegistryClientOptions;
  private readonly retry: RetryPolicy;
  private readonly uploadState: UploadStateStore;
  private readonly logger: Logger;

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...definedOnly(options.retry ?? {}) };
    this.uploadState = options.uploadState ?? new MemoryUploadStateStore();
    const plain = options.plainHttp ?? isLocalRegistry(registry);
    const baseUrl = `${plain ? 'http' : 'https'}://${registryEndpoint(registry)}`;
    this.agent = createAgent({
      ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
      ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      timeouts: { ...DEFAULT_TIMEOUTS, ...definedOnly(options.timeouts ?? {}) },
    });
    const transport = new HttpTransport({
      registry,
      agent: this.agent,
      retry: this.retry,
      logger: this.logger,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    });
    const auth = new Authenticator({ registry, credentials: options.credentials ?? new DockerConfigCredentials(), transport });
    this.session = new RegistrySession(baseUrl, transport, auth);
  }

  /** Requests made, bytes down and up, retries: live counters. */
  get stats(): ClientStats {
    return this.session.transport.stats;
  }

  /** GET /v2/ with authentication, so an unreachable registry or wrong credentials fail here. */
  async ping(options: { signal?: AbortSignal } = {}): Promise<void> {
    const s = this.session;
    const res = await s.send({ method: 'GET', url: `${s.baseUrl}/v2/`, scopes: [], retry: true, signal: options.signal });
    if (res.status === 200) {
      await discard(res);
      return;
    }
    if (res.status === 404) {
      await discard(res);
      throw new OcifsError('REGISTRY_ERROR', `${this.registry} is not an OCI registry (no /v2/ API)`, { hint: 'check the address and port' });
    }
    return s.fail(res, { registry: this.registry, action: 'ping' });
  }

  /** Repository names from the catalog API, following `Link` pages. */
  async catalog(options: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const first = new URL(`${this.session.baseUrl}/v2/_catalog`);
    if (options.pageSize) first.searchParams.set('n', String(options.pageSize));
    const names: string[] = [];
    await this.paginate(first.toString(), [CATALOG_SCOPE], { registry: this.registry, action: 'list repositories' }, options.signal, (json) => {
      const page = (json as { repositories?: unknown }).repositories;
      if (page === null || page === undefined) return;
      if (!Array.isArray(page) || page.some((r) => typeof r !== 'string')) {
        throw new InvalidContentError(`${this.registry} answered a catalog that is not a list of strings`);
      }
      names.push(...(page as string[]));
    });
    return names;
  }

  repository(name: string): RepositoryTarget {
    return new RepositoryTarget(this, name);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** @internal GETs `url` and every `rel="next"` page after it, handing each JSON page to `onPage`. */
  async paginate(url: string, scopes: string[], subject: RequestSubject, signal: AbortSignal | undefined, onPage: (json: unknown) => void): Promise<void> {
    const seen = new Set<string>();
    for (let next: string | undefined = url; next !== undefined; ) {
      if (seen.has(next)) throw new InvalidContentError(`${this.registry} sent a pagination loop at ${next}`);
      seen.add(next);
      const res = await this.session.send({ method: 'GET', url: next, scopes, retry: true, signal });
      if (res.status !== 200) return this.session.fail(res, subject);
      const body = await this.session.transport.readBody(res, MAX_LIST_PAGE_BYTES, `${subject.action} page`);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw new InvalidContentError(`${subject.action}: ${this.registry} answered something that is not JSON`);
      }
      if (!json || typeof json !== 'object') throw new InvalidContentError(`${subject.action}: ${this.registry} answered JSON that is not an object`);
      onPage(json);
      next = nextPageUrl(res.headers.link, next);
    }
  }

  /** @internal the retry policy in force, for steps that retry by themselves. */
  get retryPolicy(): RetryPolicy {
    return this.retry;
  }

  /** @internal */
  noteRangeSupport(supported: boolean): void {
    const now: RangeSupport = supported ? 'supported' : 'ignored';
    if (this.rangeSupport !== now) {
      if (!supported) this.logger.info('registry ignores Range requests: whole blobs are streamed and cut', { registry: this.registry });
      this.rangeSupport = now;
    }
  }

  /** @internal */
  uploadContext(repo: RepositoryTarget): UploadContext {
    return {
      session: this.session,
      repository: repo.repository,
      uploadState: this.uploadState,
      chunkSize: this.options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      monolithicMax: this.options.monolithicMax ?? DEFAULT_MONOLITHIC_MAX,
      retry: this.retry,
      logger: this.logger,
      exists: (d, signal) => repo.exists(d, signal ? { signal } : {}),
    };
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

