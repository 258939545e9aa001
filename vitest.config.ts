import { defineConfig } from 'vitest/config';

/**
 * Coverage floors per stage (`npm test` runs with --coverage): what the suite held when they were
 * set, rounded down, so coverage can only go up. In-process code only: most CLI tests run the
 * built bundle in a child process, which v8 coverage of the test process does not see.
 * See it with `npx vitest run --coverage` (coverage/index.html).
 */
const floors: Record<string, { lines: number; branches: number; functions: number }> = {};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Integration tests start real PostgreSQL clusters: give them time, and
    // keep parallelism at the machine's two cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
      thresholds: floors,
    },
  },
});
