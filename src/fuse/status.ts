/**
 * `ocifs status MOUNTPOINT`: the running daemon's counters, read from the `user.ocifs.status`
 * extended attribute of the mount's root (JSON, served by src/fs). Node has no xattr call, so
 * this asks getfattr (package attr).
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { InvalidContentError, OcifsError } from '../errors.js';
import { findMount, OCIFS_FS_TYPE, readMountTable } from './mountinfo.js';
import { canonicalMountpoint } from './paths.js';

export const STATUS_XATTR = 'user.ocifs.status';

export async function readMountStatus(mountpoint: string, options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const path = await canonicalMountpoint(mountpoint);
  const entry = findMount(await readMountTable(), path);
  if (!entry) throw new OcifsError('MOUNTPOINT', `${path} is not mounted`);
  if (entry.fsType !== OCIFS_FS_TYPE) {
    throw new OcifsError('MOUNTPOINT', `${path} is not an ocifs mount (it is ${entry.fsType} ${entry.source})`);
  }
  const text = await getfattr(path, STATUS_XATTR, options.timeoutMs ?? 10_000);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidContentError(`the status of ${path} is not JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidContentError(`the status of ${path} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function getfattr(path: string, name: string, timeoutMs: number): Promise<string> {
  const args = ['--only-values', '--absolute-names', '-n', name, '--', path];
  const { error, stdout, stderr } = await new Promise<{ error: ExecFileException | null; stdout: string; stderr: string }>(
    (resolve) => execFile('getfattr', args, { timeout: timeoutMs }, (error, stdout, stderr) => resolve({ error, stdout, stderr })),
  );
  if (!error) return stdout;
  if (error.code === 'ENOENT') {
    throw new OcifsError('UNSUPPORTED', 'getfattr not found: apt-get install attr');
  }
  if (/not connected/i.test(stderr)) {
    throw new OcifsError('MOUNTPOINT', `${path} is a stale mount: its daemon is gone`, { hint: `run ocifs umount ${path}` });
  }
  if (/no such attribute/i.test(stderr)) {
    throw new OcifsError('MOUNTPOINT', `${path} does not report a status (no ${name} attribute)`);
  }
  if (error.killed) throw new OcifsError('MOUNTPOINT', `${path} did not answer within ${timeoutMs} ms`);
  throw new OcifsError('MOUNTPOINT', `reading the status of ${path} failed: ${stderr.trim() || error.message}`);
}
