import { inject, expect, test } from 'vitest';
import { request } from 'undici';

test('the shared test registry answers /v2/', async () => {
  const res = await request(`http://${inject('registryHost')}/v2/`);
  await res.body.dump();
  expect(res.statusCode).toBe(200);
});
