/**
 * Where unfinished chunked uploads are remembered, so that pushing the same blob again continues
 * the registry's session instead of starting over. Keyed by registry + repository + digest.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { localIOError } from '../errors.js';

export interface UploadStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, url: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export function uploadKey(registry: string, repository: string, digest: string): string {
  return `${registry}/${repository}@${digest}`;
}

/** Sessions live as long as the client: enough to resume within one process (retries). */
export class MemoryUploadStateStore implements UploadStateStore {
  private readonly map = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }
  async set(key: string, url: string): Promise<void> {
    this.map.set(key, url);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
}

/**
 * A JSON file `{ key: url }`, so a push killed mid-blob resumes in the next process. Writes are
 * atomic (temp file + rename) and serialised within the process; the file is re-read on each
 * change so two processes pushing different blobs lose at most a resume, never a file.
 */
export class FileUploadStateStore implements UploadStateStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async get(key: string): Promise<string | undefined> {
    await this.queue;
    return (await this.read())[key];
  }

  set(key: string, url: string): Promise<void> {
    return this.update((all) => {
      all[key] = url;
    });
  }

  delete(key: string): Promise<void> {
    return this.update((all) => {
      delete all[key];
    });
  }

  private update(change: (all: Record<string, string>) => void): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.read();
      change(all);
      await this.write(all);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Record<string, string>> {
    try {
      const json = JSON.parse(await readFile(this.path, 'utf8')) as unknown;
      if (!json || typeof json !== 'object' || Array.isArray(json)) return {};
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(json)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch (err) {
      // Missing or unreadable state only costs a resume: start from nothing.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) {
        throw localIOError(err, `cannot read upload state ${this.path}`);
      }
      return {};
    }
  }

  private async write(all: Record<string, string>): Promise<void> {
    const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw localIOError(err, `cannot write upload state ${this.path}`);
    }
  }
}
