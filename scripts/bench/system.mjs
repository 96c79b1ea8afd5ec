/**
 * What the bench asks the kernel: drop the page cache, a process's peak memory and CPU time,
 * the mount table, the machine. Parsing is pure (exported for tests); reading /proc is the I/O.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** `/proc/<pid>/status` text -> { VmHWM, VmRSS, ... } in bytes (the kernel writes kB). */
export function parseProcStatus(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(Vm\w+|Rss\w+):\s+(\d+)\s+kB$/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

/** `/proc/<pid>/stat` text -> user + system CPU in clock ticks (the command may hold spaces). */
export function parseProcStatTicks(text) {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** `/proc/self/mountinfo` -> [{ mountpoint, fsType, source }]; see proc(5). */
export function parseMountinfo(text) {
  const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const out = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({ mountpoint: unescape(fields[4]), fsType: unescape(fields[sep + 1]), source: unescape(fields[sep + 2]) });
  }
  return out;
}

export function mounts() {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export function mountAt(path) {
  let found;
  for (const m of mounts()) if (m.mountpoint === path) found = m;
  return found;
}

let ticksPerSecond;
/** CPU seconds (user + system) used so far by a live process; NaN once it is gone. */
export function cpuSeconds(pid) {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** { VmHWM, VmRSS } of a live process, in bytes. */
export function memoryOf(pid) {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Write dirty pages and drop the page cache, dentries and inodes (root only). Returns false
 * when that is not allowed: cold numbers are then not cold, and the results say so.
 */
export function dropCaches() {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

export function loadAverage() {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

export function machineInfo() {
  const cpuModel = cpus()[0]?.model?.trim() ?? 'unknown';
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim()) || cpus().length;
  return {
    nproc,
    cpuModel,
    memoryBytes: totalmem(),
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout?.trim(),
    node: process.version,
    loadAverageAtStart: loadAverage(),
  };
}
