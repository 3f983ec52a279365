import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The MLflow virtualenv and the native backend, set up once before the tests (or one line each saying why not).
    globalSetup: ['test/global-setup.ts'],
    // tfjs graphs and child processes make some tests take seconds; two forks match the 2-core CI.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
