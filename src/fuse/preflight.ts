/**
 * Is FUSE usable here? Each missing piece is one clear line saying what to install, checked
 * before anything is mounted (libfuse's own messages are cryptic and go straight to stderr).
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { OcifsError } from '../errors.js';
import { loadFuseNative } from './native.js';

export interface PreflightOptions {
  /** Checked against /etc/fuse.conf for users other than root. */
  allowOther?: boolean;
  // The rest exists so tests can stand in for a machine without FUSE.
  devFuse?: string;
  /** Where to look for fusermount ($PATH by default). */
  searchPath?: string;
  fuseConf?: string;
  uid?: number;
  loadNative?: () => unknown;
  /** Where the capability bounding set is read (/proc/self/status). */
  procStatus?: string;
}

export async function checkFuseAvailable(options: PreflightOptions = {}): Promise<void> {
  await checkDevice(options.devFuse ?? '/dev/fuse');
  await checkFusermount(options.searchPath ?? process.env.PATH ?? '/usr/bin:/bin');
  await checkMountCapability(options.procStatus ?? '/proc/self/status');
  checkLibfuse(options.loadNative ?? loadFuseNative);
  if (options.allowOther) await checkAllowOther(options.fuseConf ?? '/etc/fuse.conf', options.uid ?? process.getuid?.() ?? 0);
}

function unavailable(message: string, hint?: string): OcifsError {
  return new OcifsError('FUSE_UNAVAILABLE', message, hint ? { hint } : {});
}

/**
 * Mounting needs CAP_SYS_ADMIN (root directly, others through the setuid fusermount, which can
 * only gain what the bounding set allows); a container without --cap-add SYS_ADMIN has it
 * cleared, and libfuse then fails without saying why.
 */
async function checkMountCapability(procStatus: string): Promise<void> {
  const text = await readFile(procStatus, 'utf8').catch(() => '');
  const bounding = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(text)?.[1];
  if (bounding === undefined) return;
  if ((BigInt(`0x${bounding}`) & (1n << 21n)) === 0n) {
    throw unavailable(
      'mounting needs CAP_SYS_ADMIN, which this process cannot have (it is not in its capability bounding set)',
      'in a container, run it with --cap-add SYS_ADMIN (or --privileged)',
    );
  }
}

async function checkDevice(device: string): Promise<void> {
  const inContainer = 'in a container, run it with --device /dev/fuse --cap-add SYS_ADMIN';
  let info;
  try {
    info = await stat(device);
  } catch {
    throw unavailable(`${device} is missing: load the fuse kernel module (modprobe fuse)`, inContainer);
  }
  if (!info.isCharacterDevice()) throw unavailable(`${device} is not a character device`, inContainer);
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch {
    throw unavailable(`${device} is not readable and writable by this user`, 'ask an administrator to make it mode 0666');
  }
}

async function checkFusermount(searchPath: string): Promise<void> {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, 'fusermount'), constants.X_OK);
      return;
    } catch {
      // keep looking
    }
  }
  throw unavailable('fusermount not found: apt-get install fuse');
}

function checkLibfuse(load: () => unknown): void {
  try {
    load();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/libfuse\.so\.2/.test(message)) throw unavailable('libfuse.so.2 not found: apt-get install libfuse2');
    throw unavailable(`the FUSE binding (fuse-native) could not be loaded: ${message}`, 'reinstall ocifs (npm ci)');
  }
}

async function checkAllowOther(fuseConf: string, uid: number): Promise<void> {
  if (uid === 0) return;
  const text = await readFile(fuseConf, 'utf8').catch(() => '');
  if (/^\s*user_allow_other\b/m.test(text)) return;
  throw unavailable(
    `--allow-other needs user_allow_other in ${fuseConf}`,
    `add the line user_allow_other to ${fuseConf} (as root)`,
  );
}
