import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs graphs and child processes make some tests take seconds; two forks match the 2-core CI.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
