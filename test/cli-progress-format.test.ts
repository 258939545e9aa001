/**
 * The progress lines' format, drawn from fixed values (the terminal tests
 * see only the frames their timing lets them catch).
 */
import type { Options, Params } from 'cli-progress';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatLine } from '../src/cli/load-progress.js';

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
