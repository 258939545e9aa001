import { defineConfig } from 'vitest/config';

/**
 * Coverage floors per stage (`npm test` runs with --coverage): what the suite held on 5 December
 * 2026 (a fresh clone's CI run), rounded down and less 3 points, so that a test skipped for want
 * of Docker or a browser does not fail the run; raise them as coverage grows, never lower them.
 * In-process code only: most CLI tests run the built bundle in a child process, which v8
 * coverage of the test process does not see (hence cli/'s low figure). coverage/index.html.
 */
const floor = (lines: number, branches: number, functions: number) => ({ lines, branches, functions });
const floors: Record<string, { lines: number; branches: number; functions: number }> = {
  'src/archive/**': floor(92, 79, 94),
  'src/cli/**': floor(1, 2, 0),
  'src/detect/**': floor(93, 75, 84),
  // Docker's engine is covered only where Docker runs: without it, engine/ drops well below this.
  'src/engine/**': floor(35, 18, 40),
  'src/export/**': floor(47, 44, 53),
  'src/filter/**': floor(93, 86, 97),
  'src/history/**': floor(66, 56, 56),
  'src/load/**': floor(82, 70, 85),
  'src/merge/**': floor(81, 73, 81),
  'src/query/**': floor(76, 79, 72),
  'src/remote/**': floor(83, 60, 87),
  'src/report/**': floor(89, 66, 92),
  'src/session/**': floor(62, 36, 50),
  'src/source/**': floor(39, 42, 44),
  'src/*.ts': floor(60, 34, 65),
};

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
