// The bench's own tests (its pure helpers and the counting proxy against the real registry):
//   npx vitest run --config scripts/bench/vitest.config.mjs
// Kept apart from test/ (the product's suite) because the bench is not part of the product.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['test/**/*.test.mjs'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
