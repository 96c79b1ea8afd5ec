/**
 * The servers the bench runs for itself, each on a free loopback port with its files in the
 * bench's temporary directory: the real registry (Debian's `docker-registry`, as the tests run
 * it) and nginx serving the data directory to rclone.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startService, waitFor } from './proc.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** docker-registry with filesystem storage under `dir`; { host, url, pid, stop }. */
export async function startRegistry(cleanup, dir) {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: ocifs-bench-secret',
    '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const service = startService(cleanup, 'docker-registry', ['serve', configPath], { logFile: join(dir, 'registry.log'), name: 'docker-registry' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('docker-registry to answer', async () => {
    if (!service.isRunning()) throw new Error(`docker-registry exited; see ${join(dir, 'registry.log')}`);
    return answers(`${url}/v2/`);
  });
  return { host: `127.0.0.1:${port}`, url, pid: service.pid, stop: service.stop };
}

/** nginx serving `root` (with directory listings, which rclone's http remote reads). */
export async function startNginx(cleanup, root, dir) {
  await mkdir(join(dir, 'logs'), { recursive: true }); // nginx opens <prefix>/logs/error.log before its config

  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
master_process on;
user root;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
    autoindex on;
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, conf);
  const service = startService(cleanup, 'nginx', ['-c', confPath, '-p', dir], { logFile: join(dir, 'nginx.out'), name: 'nginx' });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('nginx to answer', async () => {
    if (!service.isRunning()) throw new Error(`nginx exited; see ${join(dir, 'error.log')}`);
    return answers(url);
  });
  return { host: `127.0.0.1:${port}`, port, url, pid: service.pid, stop: service.stop };
}
