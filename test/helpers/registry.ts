/**
 * Starts the real reference registry (Debian's `docker-registry`, CNCF distribution) on a free
 * loopback port with a temporary storage directory. Tests never stand in a mock for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from './require.js';

export interface RegistryOptions {
  /** Extra YAML appended under the top level (auth:, proxy:, ...). */
  extraConfig?: string;
  /** `http.tls` certificate and key paths: serve HTTPS. */
  tls?: { certificate: string; key: string };
  /** Extra YAML lines under `http:` (indented by two spaces). */
  httpExtra?: string;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://...` */
  url: string;
  storageDir: string;
  stop(): Promise<void>;
  /** Everything the registry printed, for failure messages. */
  logs(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  requireCommand('docker-registry', 'apt-get install --no-install-recommends docker-registry');
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-registry-'));
  const storageDir = join(dir, 'storage');
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const scheme = options.tls ? 'https' : 'http';
    const config = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storageDir}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: ocifs-test-secret',
      ...(options.tls ? ['  tls:', `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`] : []),
      ...(options.httpExtra ? [options.httpExtra] : []),
      ...(options.extraConfig ? [options.extraConfig] : []),
    ].join('\n');
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, config + '\n');
    const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    try {
      await waitReady(child, `${scheme}://127.0.0.1:${port}/v2/`, () => output);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      continue;
    }
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    };
    return {
      host: `127.0.0.1:${port}`,
      port,
      url: `${scheme}://127.0.0.1:${port}`,
      storageDir,
      stop,
      logs: () => output,
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start: ${String(lastError)}`);
}

async function waitReady(child: ChildProcess, url: string, logs: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  // The registry may use a self-signed certificate in TLS tests: only wait for the port to answer.
  const { request } = await import('undici');
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${logs()}`);
    try {
      const res = await request(url, { dispatcher: await insecureAgent() });
      await res.body.dump();
      if (res.statusCode === 200 || res.statusCode === 401) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url}: ${logs()}`);
}

let agent: import('undici').Agent | undefined;
async function insecureAgent() {
  const { Agent } = await import('undici');
  agent ??= new Agent({ connect: { rejectUnauthorized: false } });
  return agent;
}
