/**
 * The installed command (dist/cli/recover-texts.cjs) sets V8's heap growth before it runs
 * (recover-texts.cts says why). V8 reports a flag it does not know on stderr and goes on, so on
 * each Node CI runs (20, 22, 24) the command must start with nothing on stderr, with and without a
 * value the user gave node. Whether the user's value is the one kept cannot be read back from V8, nor
 * the effect on the garbage collector counted reliably here: the benchmark of a year's history
 * measures that (bench/README.md).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO, ROOT } from './helpers.js';

const BIN = join(ROOT, 'dist', 'cli', 'recover-texts.cjs');

describe('the installed command on this Node', () => {
  it.each([[[]], [['--heap-growing-percent=50']], [['--heap_growing_percent=50']], [['-heap-growing-percent=50']]])('runs without a word on stderr (node options %j)', (given: string[]) => {
    const r = spawnSync(process.execPath, [...given, BIN, 'export', DEMO, '--user', 'alice', '--format', 'csv', '-q'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task_name,username,/);
    expect(r.stderr).toBe('');
  });
});
