import { expect, test } from 'vitest';
import { TOOLS, packagesFor } from '../tools.mjs';

test('missing commands map to their Debian packages, once each', () => {
  expect(packagesFor(['gdalinfo', 'gdal_translate', 'nginx', 'rclone'])).toEqual(['gdal-bin', 'nginx-light', 'rclone']);
});

test('the peers the issue names are optional; what ocifs itself needs is required', () => {
  for (const peer of ['curl', 'skopeo', 'nginx', 'rclone']) expect(TOOLS[peer].required).toBe(false);
  for (const need of ['docker-registry', 'fusermount', 'getfattr', 'gdal_translate']) expect(TOOLS[need].required).toBe(true);
});
