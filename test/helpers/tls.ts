/**
 * Test certificates made with openssl: a CA, and a server certificate it signs for 127.0.0.1
 * and localhost (SAN; Go's TLS ignores the CN), plus self-signed signing certificates for the
 * token server. Everything lands in a temp directory removed by `cleanup()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from './require.js';

export interface TestCA {
  dir: string;
  /** PEM of the CA: what a client passes as --ca-file. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  cleanup(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function makeTestCA(): Promise<TestCA> {
  requireCommand('openssl', 'apt-get install --no-install-recommends openssl');
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-tls-'));
  try {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ocifs test CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    await writeFile(
      join(dir, 'server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A self-signed RSA certificate and key (PEM paths) in `dir`, e.g. for signing tokens. */
export function selfSignedCert(dir: string, name: string): { cert: string; key: string } {
  requireCommand('openssl', 'apt-get install --no-install-recommends openssl');
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], dir);
  return { cert, key };
}
