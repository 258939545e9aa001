/**
 * The progress lines' format, drawn from fixed values (the terminal tests
 * see only the frames their timing lets them catch).
 */
import type { Options, Params } from 'cli-progress';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatLine, runProgress, summaryLine, type RunProgress } from '../src/cli/load-progress.js';

/** The clock stands still at NOW, so rates and times left come out exact. */
const NOW = Date.UTC(2026, 10, 30, 12);
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});
const params = (value: number, total: number, secondsAgo: number) => ({ value, total, startTime: NOW - secondsAgo * 1000 }) as Params;
const many = (label: string) => ({ label, step: false, width: 32, barWidth: 20, timed: true });

describe('progress lines', () => {
  it('a backup of known size: bar, percentage, bytes, rate and time left', () => {
    expect(formatLine({} as Options, params(5e6, 20e6, 2), many('buggy_race_bk_20260310.sql.gz'))).toBe(
      '  buggy_race_bk_20260310.sql.gz    [#####...............]  25% 5.00/20.0 MB  2.50 MB/s  6s left',
    );
  });

  it('an archive (size unknown): its kind in the bar, bytes and rate', () => {
    expect(formatLine({} as Options, params(3e6, 0, 1), many('buggy_race_bk_20260312.dump'))).toBe(
      '  buggy_race_bk_20260312.dump      [archive.............]      3.00 MB  3.00 MB/s',
    );
  });

  it('no rate in the first fifth of a second, and a step line counts seconds', () => {
    expect(formatLine({} as Options, params(1e6, 2e6, 0), many('a.sql.gz'))).toBe('  a.sql.gz                         [##########..........]  50% 1.00/2.00 MB');
    expect(formatLine({} as Options, params(0, 0, 3), { label: 'starting PostgreSQL...', step: true, width: 0, barWidth: 0, timed: true })).toBe('starting PostgreSQL... 3s');
  });
});

describe("the summary line over many backups: the whole run's rate and time left", () => {
  const run = (p: Partial<RunProgress>): RunProgress => ({ backups: 365, loaded: 208, loading: 3, waiting: 154, failed: 0, doneBytes: 0, totalBytes: null, seconds: 0, ...p });

  it('every size known: MB/s over all bytes read, and the time left for all bytes left', () => {
    // 600 MB of 1000 MB in 60 s: 10 MB/s, 400 MB left, 40 s.
    expect(summaryLine(run({ doneBytes: 600e6, totalBytes: 1000e6, seconds: 60 }))).toBe('loading 365 backups: 208 loaded, 3 loading, 154 waiting  10.0 MB/s  40s left');
    expect(summaryLine(run({ doneBytes: 6e6, totalBytes: 60e6, seconds: 2, failed: 2 }))).toBe('loading 365 backups: 208 loaded, 3 loading, 154 waiting, 2 failed  3.00 MB/s  18s left');
  });

  it('a size unknown (an archive): backups/s over backups done, and the time left for the others', () => {
    // 208 of 365 done in 104 s: 2 a second; 157 to go: 79 s.
    expect(summaryLine(run({ doneBytes: 5e8, seconds: 104 }))).toBe('loading 365 backups: 208 loaded, 3 loading, 154 waiting  2.0 backups/s  1m19s left');
    expect(summaryLine(run({ backups: 400, loaded: 360, failed: 10, loading: 4, waiting: 26, seconds: 20 }))).toBe(
      'loading 400 backups: 360 loaded, 4 loading, 26 waiting, 10 failed  19 backups/s  2s left',
    );
  });

  it('no rate before there is one: at the start, nothing read, or nothing done', () => {
    const counts = 'loading 365 backups: 0 loaded, 4 loading, 361 waiting';
    expect(summaryLine(run({ loaded: 0, loading: 4, waiting: 361, doneBytes: 1e6, totalBytes: 1e9, seconds: 0.1 }))).toBe(counts);
    expect(summaryLine(run({ loaded: 0, loading: 4, waiting: 361, totalBytes: 1e9, seconds: 5 }))).toBe(counts);
    expect(summaryLine(run({ loaded: 0, loading: 4, waiting: 361, doneBytes: 1e6, seconds: 5 }))).toBe(counts);
  });

  it('all read: the rate, no time left', () => {
    expect(summaryLine(run({ loaded: 364, loading: 1, waiting: 0, doneBytes: 2e9, totalBytes: 2e9, seconds: 100 }))).toBe('loading 365 backups: 364 loaded, 1 loading, 0 waiting  20.0 MB/s');
  });
});

describe('the run so far, from each backup\'s latest state and bytes', () => {
  it('sizes known: bytes read of all to read; a failed backup has nothing left, a loaded archive counts what it read', () => {
    const p = runProgress(
      [
        { state: 'loaded', done: 10e6, total: 10e6 },
        { state: 'loaded', done: 7e6, total: 0 }, // an archive, read
        { state: 'failed', done: 1e6, total: 9e6 },
        { state: 'loading', done: 2e6, total: 8e6 },
        { state: 'waiting', done: 0, total: 5e6 },
      ],
      4,
    );
    expect(p).toEqual({ backups: 5, loaded: 2, loading: 1, waiting: 1, failed: 1, doneBytes: 20e6, totalBytes: 31e6, seconds: 4 });
    expect(summaryLine(p)).toBe('loading 5 backups: 2 loaded, 1 loading, 1 waiting, 1 failed  5.00 MB/s  3s left');
  });

  it('a backup still to read of unknown size (an archive, a named file not read yet): bytes left unknown', () => {
    expect(runProgress([{ state: 'loaded', done: 3e6, total: 3e6 }, { state: 'waiting', done: 0, total: 0 }], 2).totalBytes).toBeNull();
    expect(runProgress([{ state: 'loaded', done: 3e6, total: 3e6 }, { state: 'loading', done: 1e6, total: 0 }], 2).totalBytes).toBeNull();
  });
});
