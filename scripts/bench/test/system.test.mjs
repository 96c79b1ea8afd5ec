import { expect, test } from 'vitest';
import { parseMountinfo, parseProcStatTicks, parseProcStatus } from '../system.mjs';

test('parseProcStatus reads kB lines as bytes', () => {
  const text = 'Name:\tnode\nVmPeak:\t  900 kB\nVmHWM:\t  163840 kB\nVmRSS:\t   81920 kB\nThreads:\t11\n';
  expect(parseProcStatus(text)).toEqual({ VmPeak: 900 * 1024, VmHWM: 163840 * 1024, VmRSS: 81920 * 1024 });
});

test('parseProcStatTicks adds utime and stime, even when the command has spaces and parentheses', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const text = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0';
  expect(parseProcStatTicks(text)).toBe(325);
});

test('parseMountinfo finds FUSE mounts and unescapes paths', () => {
  const text = [
    '22 1 0:21 / / rw,relatime - ext4 /dev/vda rw',
    '90 22 0:55 / /tmp/ocifs-bench-x/mnt-ocifs-1 rw,nosuid,nodev - fuse.ocifs ocifs#127.0.0.1:5000/bench/data:big rw,user_id=0',
    '91 22 0:56 / /tmp/with\\040space rw - fuse.rclone :http: rw',
  ].join('\n');
  expect(parseMountinfo(text)).toEqual([
    { mountpoint: '/', fsType: 'ext4', source: '/dev/vda' },
    { mountpoint: '/tmp/ocifs-bench-x/mnt-ocifs-1', fsType: 'fuse.ocifs', source: 'ocifs#127.0.0.1:5000/bench/data:big' },
    { mountpoint: '/tmp/with space', fsType: 'fuse.rclone', source: ':http:' },
  ]);
});
