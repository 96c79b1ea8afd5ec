import { describe, expect, it } from 'vitest';
import { findMount, parseMountInfo, unescapeMountField } from '../../src/fuse/mountinfo.js';
import { classifyFusermountFailure } from '../../src/fuse/unmount.js';

const SAMPLE = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '41 22 0:38 / /tmp/fx/m1 ro,nosuid,nodev,relatime shared:20 - fuse.ocifs ocifs\\043127.0.0.1:5000/eo ro,user_id=0,group_id=0',
  '42 22 0:39 / /tmp/with\\040space rw,relatime - tmpfs tmpfs rw',
  '43 41 0:40 / /tmp/fx/m1 rw - fuse.sshfs host:/ rw',
  'garbage line',
  '',
].join('\n');

describe('parseMountInfo', () => {
  const entries = parseMountInfo(SAMPLE);

  it('reads id, mountpoint, type, source and options, skipping lines it does not understand', () => {
    expect(entries).toHaveLength(4);
    expect(entries[1]).toEqual({
      id: 41,
      parentId: 22,
      mountpoint: '/tmp/fx/m1',
      fsType: 'fuse.ocifs',
      source: 'ocifs#127.0.0.1:5000/eo',
      options: ['ro', 'nosuid', 'nodev', 'relatime'],
    });
  });

  it('handles optional fields of any count before the separator', () => {
    expect(entries[0]).toMatchObject({ fsType: 'ext4', source: '/dev/vda' });
    expect(entries[2]).toMatchObject({ fsType: 'tmpfs', mountpoint: '/tmp/with space' });
  });

  it('finds the topmost mount at a path', () => {
    expect(findMount(entries, '/tmp/fx/m1')?.id).toBe(43);
    expect(findMount(entries, '/tmp/fx')).toBeUndefined();
  });
});

describe('unescapeMountField', () => {
  it.each([
    ['plain', 'plain'],
    ['a\\040b', 'a b'],
    ['tab\\011x', 'tab\tx'],
    ['nl\\012x', 'nl\nx'],
    ['back\\134slash', 'back\\slash'],
    ['hash\\043', 'hash#'],
    ['not\\08', 'not\\08'],
  ])('%s', (input, expected) => expect(unescapeMountField(input)).toBe(expected));
});

describe('classifyFusermountFailure', () => {
  it.each([
    ['fusermount: failed to unmount /m: Device or resource busy', 'busy'],
    ['fusermount: failed to unmount /m: Invalid argument', 'not-mounted'],
    ['fusermount: entry for /m not found in /etc/mtab', 'not-mounted'],
  ])('%s', (stderr, expected) => expect(classifyFusermountFailure(stderr, '/m')).toBe(expected));

  it('throws a MOUNTPOINT error with fusermount\'s message otherwise', () => {
    expect(() => classifyFusermountFailure('fusermount: bad mount point /m: Permission denied\n', '/m')).toThrow(
      expect.objectContaining({ code: 'MOUNTPOINT', message: 'could not unmount /m: fusermount: bad mount point /m: Permission denied' }),
    );
  });
});
