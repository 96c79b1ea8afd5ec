/**
 * The mirrors themselves: one RegistryClient per mirror with a short retry policy (a mirror that
 * is down must cost one failed try, not the origin's whole retry budget, before the origin is
 * asked), its health, and a pool that shares them across every repository of a process.
 */
import { silentLogger, type Logger } from '../log.js';
import { RegistryClient, type CredentialProvider, type RepositoryTarget, type RetryPolicy, type Timeouts } from '../registry/index.js';
import { mirrorId, mirrorsFor, type MirrorConfig, type MirrorSpec } from './config.js';
import { DEFAULT_HEALTH_POLICY, MirrorHealth, type HealthPolicy } from './health.js';
import { MirroredRepository } from './mirrored-repository.js';

export class Mirror {
  readonly id: string;
  /** Manifest digests this process already helped the mirror keep (see MirroredRepository). */
  readonly primed = new Set<string>();

  constructor(
    readonly spec: MirrorSpec,
    readonly client: RegistryClient,
    readonly health: MirrorHealth,
  ) {
    this.id = mirrorId(spec);
  }

  /** The mirror's repository for an origin repository: distribution's proxy keeps the name. */
  repository(originRepository: string): RepositoryTarget {
    return this.client.repository(this.spec.prefix ? `${this.spec.prefix}/${originRepository}` : originRepository);
  }
}

/** One try, a short connect timeout: falling back to the origin is the retry. */
export const MIRROR_RETRY_POLICY: Partial<RetryPolicy> = Object.freeze({ attempts: 1 });
export const MIRROR_TIMEOUTS: Partial<Timeouts> = Object.freeze({ connectMs: 3_000, headersMs: 30_000 });

export interface MirrorPoolOptions {
  config: MirrorConfig;
  /** Credentials for mirrors (looked up by the mirror's host); default: anonymous via Docker's config. */
  credentials?: CredentialProvider;
  logger?: Logger;
  health?: Partial<HealthPolicy>;
  /** The clock of back-offs, for tests. */
  now?: () => number;
  retry?: Partial<RetryPolicy>;
  timeouts?: Partial<Timeouts>;
  /** See MirroredRepositoryOptions.bufferedVerifyMax. */
  bufferedVerifyMax?: number;
}

export class MirrorPool {
  private readonly mirrors = new Map<string, Mirror>();
  private readonly logger: Logger;

  constructor(private readonly options: MirrorPoolOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Whether any mirror is configured for `registry`. */
  has(registry: string): boolean {
    return mirrorsFor(this.options.config, registry).length > 0;
  }

  /** The mirrors of `registry` in the order they are tried (shared: one health per mirror). */
  mirrorsOf(registry: string): Mirror[] {
    return mirrorsFor(this.options.config, registry).map((spec) => this.mirror(spec));
  }

  /** `origin` read through its mirrors, or `origin` itself when it has none. */
  wrap(origin: RepositoryTarget): MirroredRepository | RepositoryTarget {
    const mirrors = this.mirrorsOf(origin.client.registry);
    if (mirrors.length === 0) return origin;
    return new MirroredRepository(origin, mirrors, {
      logger: this.logger,
      ...(this.options.bufferedVerifyMax !== undefined ? { bufferedVerifyMax: this.options.bufferedVerifyMax } : {}),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.mirrors.values()].map((m) => m.client.close()));
    this.mirrors.clear();
  }

  private mirror(spec: MirrorSpec): Mirror {
    // Keyed by everything that shapes the connection: the same host with other TLS options is another client.
    const key = JSON.stringify([spec.host, spec.prefix, spec.plainHttp, spec.insecure, spec.caFile]);
    let mirror = this.mirrors.get(key);
    if (!mirror) {
      const o = this.options;
      const client = new RegistryClient(spec.host, {
        ...(spec.plainHttp !== undefined ? { plainHttp: spec.plainHttp } : {}),
        insecure: spec.insecure,
        ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
        ...(o.credentials ? { credentials: o.credentials } : {}),
        retry: { ...MIRROR_RETRY_POLICY, ...o.retry },
        timeouts: { ...MIRROR_TIMEOUTS, ...o.timeouts },
        logger: this.logger.child({ mirror: mirrorId(spec) }),
      });
      mirror = new Mirror(spec, client, new MirrorHealth({ ...DEFAULT_HEALTH_POLICY, ...o.health }, o.now ?? Date.now));
      this.mirrors.set(key, mirror);
    }
    return mirror;
  }
}
