/**
 * Whether the process that recorded a pin is still alive. A pid alone is not enough after a
 * crash (pids are reused), so a pin also records the process's start time from /proc; a pin whose
 * pid is gone or now belongs to another process is dead and ignored.
 *
 * Daemons sharing one cache directory must share a pid namespace (one host, or one container).
 */
import { readFileSync } from 'node:fs';

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or '' if unknown. */
export function processStartToken(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No /proc at all (not Linux): fall back to the pid alone.
    if (code === 'ENOENT' && !procAvailable()) return signalProbe(pid) ? '' : undefined;
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

/** True when a process with this pid and start token is running. */
export function isProcessAlive(pid: number, token: string): boolean {
  const current = processStartToken(pid);
  if (current === undefined) return false;
  return token === '' || current === '' || current === token;
}

let procChecked: boolean | undefined;
function procAvailable(): boolean {
  if (procChecked === undefined) {
    try {
      readFileSync('/proc/self/stat');
      procChecked = true;
    } catch {
      procChecked = false;
    }
  }
  return procChecked;
}

function signalProbe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
