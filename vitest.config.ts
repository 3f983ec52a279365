import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The MLflow virtualenv and the native backend, set up once before the tests (or one line each saying why not).
    globalSetup: ['test/global-setup.ts'],
    // tfjs graphs and child processes make some tests take seconds; two forks match the 2-core CI.
    // Vitest's default is one fewer than the cores (one fork on 2 cores), and most of a fork's time
    // here is spent waiting on the processes it starts (fer, MLflow, Slurm), so two are set outright.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
