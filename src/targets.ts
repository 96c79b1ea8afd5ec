/**
 * Target specs, as users type them, and opening them. A spec names either a registry repository
 * (`127.0.0.1:5000/eo/products:v1`) or an OCI image layout directory (`oci-layout:./eo-layout:v1`,
 * or a path such as `./eo-layout:v1` that is a layout on disk), as `oras --oci-layout` and skopeo's
 * `oci:` transport do.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionConfig } from './config.js';
import { InvalidReferenceError } from './errors.js';
import { LayoutTarget, parseLayoutSpec } from './layout/index.js';
import { silentLogger, type Logger } from './log.js';
import { MirrorPool, type MirrorConfig } from './mirrors/index.js';
import type { ReadableTarget, WritableTarget } from './oci/target.js';
import { parseReference, type Reference } from './ref/reference.js';
import { DockerConfigCredentials, FileUploadStateStore, RegistryClient, type RepositoryTarget } from './registry/index.js';

export type TargetSpec =
  | { kind: 'registry'; reference: Reference }
  | { kind: 'layout'; path: string; tag?: string; digest?: string };

const LAYOUT_PREFIXES = ['oci-layout:', 'oci:'];

/**
 * Parses a target spec. `oci-layout:` / `oci:` prefixes force a layout; a path that starts like
 * a path (`./`, `../`, `/`, `~`) or names an existing layout directory is a layout; anything
 * else is a registry reference.
 */
export function parseTargetSpec(text: string): TargetSpec {
  if (text.trim() === '') throw new InvalidReferenceError('empty target: expected REGISTRY/REPOSITORY[:TAG] or oci-layout:PATH[:TAG]');
  for (const prefix of LAYOUT_PREFIXES) {
    if (text.startsWith(prefix)) return { kind: 'layout', ...parseLayoutSpec(text.slice(prefix.length)) };
  }
  if (/^(\.{1,2}\/|\/|~)/.test(text) || text === '.' || looksLikeLayoutOnDisk(text)) {
    return { kind: 'layout', ...parseLayoutSpec(text) };
  }
  return { kind: 'registry', reference: parseReference(text) };
}

function looksLikeLayoutOnDisk(text: string): boolean {
  const { path } = parseLayoutSpec(text);
  return existsSync(join(path, 'oci-layout'));
}

/** True when `path` is a directory holding an OCI layout. */
export function isLayoutDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, 'oci-layout'));
  } catch {
    return false;
  }
}

/** The tag or digest a spec points at, if any. */
export function specReference(spec: TargetSpec): string | undefined {
  if (spec.kind === 'registry') return spec.reference.digest ?? spec.reference.tag;
  return spec.digest ?? spec.tag;
}

export function describeSpec(spec: TargetSpec): string {
  if (spec.kind === 'layout') return `oci-layout:${spec.path}`;
  return `${spec.reference.registry}/${spec.reference.repository}`;
}

export interface TargetFactoryOptions {
  connection: ConnectionConfig;
  /** Where resumable upload sessions are remembered (a JSON file). */
  uploadStateFile?: string;
  logger?: Logger;
  /** Pull-through mirrors used by readRepository/openForRead (docs/mirrors.md); none when absent. */
  mirrors?: MirrorConfig;
}

/** Opens targets, sharing one RegistryClient (connections, tokens) per registry. */
export class TargetFactory {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly logger: Logger;
  private mirrorPool: MirrorPool | undefined;

  constructor(private readonly options: TargetFactoryOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      const c = this.options.connection;
      client = new RegistryClient(registry, {
        plainHttp: c.plainHttp,
        insecure: c.insecure,
        caFile: c.caFile,
        credentials: new DockerConfigCredentials(c.dockerConfigDir),
        logger: this.logger.child({ registry }),
        uploadState: this.options.uploadStateFile ? new FileUploadStateStore(this.options.uploadStateFile) : undefined,
      });
      this.clients.set(registry, client);
    }
    return client;
  }

  repository(reference: Reference): RepositoryTarget {
    return this.client(reference.registry).repository(reference.repository);
  }

  /**
   * A repository for reading only: through its pull-through mirrors when any are configured for
   * its registry, else the origin itself. Never write through it (use repository()).
   */
  readRepository(registry: string, repository: string): ReadableTarget {
    const origin = this.client(registry).repository(repository);
    if (!this.options.mirrors) return origin;
    this.mirrorPool ??= new MirrorPool({
      config: this.options.mirrors,
      credentials: new DockerConfigCredentials(this.options.connection.dockerConfigDir),
      logger: this.logger.child({ component: 'mirrors' }),
    });
    return this.mirrorPool.wrap(origin);
  }

  /** Opens a spec that is only read (pull/ls/cp sources): registries through their mirrors. */
  async openForRead(spec: TargetSpec): Promise<ReadableTarget> {
    if (spec.kind === 'layout') return LayoutTarget.open(spec.path);
    return this.readRepository(spec.reference.registry, spec.reference.repository);
  }

  /** Opens a spec as a target. Layouts are created when `create` is set (destinations). */
  async open(spec: TargetSpec, options: { create?: boolean } = {}): Promise<WritableTarget> {
    if (spec.kind === 'layout') return LayoutTarget.open(spec.path, { create: options.create });
    return this.repository(spec.reference);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
    await this.mirrorPool?.close();
    this.mirrorPool = undefined;
  }
}
