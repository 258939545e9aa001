/**
 * The installed command (dist/cli/recover-texts.cjs, package.json's bin) sizes libuv's thread
 * pool to the cores, at least 2, before anything starts it; a size the user set is kept. The
 * pool's threads are counted in /proc at exit, so this runs where /proc lists a process's threads.
 * Its stderr holds nothing else (heap-growth.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const BIN = join(ROOT, 'dist', 'cli', 'recover-texts.cjs');
/** Loaded before the command: at exit, it prints the size asked for and the threads the process has (the pool's among them). */
const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { readdirSync } from 'node:fs'; process.on('exit', () => process.stderr.write(`pool=${process.env.UV_THREADPOOL_SIZE} threads=${readdirSync('/proc/self/task').length}\\n`));",
)}`;

/** `recover-texts --version` through the bin, with UV_THREADPOOL_SIZE as given (undefined: unset). */
function run(size: string | undefined): { pool: string; threads: number } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--import=${HOOK}` };
  delete env.UV_THREADPOOL_SIZE;
  if (size !== undefined) env.UV_THREADPOOL_SIZE = size;
  const r = spawnSync(process.execPath, [BIN, '--version'], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  const m = /pool=(\S+) threads=(\d+)/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  // Nothing else: V8 knew the flag the command sets.
  expect(r.stderr.replace(m![0], '').trim()).toBe('');
  return { pool: m![1]!, threads: Number(m![2]) };
}

describe.skipIf(!existsSync('/proc/self/task'))('the thread pool (this machine lists threads in /proc)', () => {
  it('is sized to the cores, at least 2, by the installed command', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin['recover-texts']).toBe('dist/cli/recover-texts.cjs');
    const wanted = String(Math.max(2, availableParallelism()));
    const unset = run(undefined);
    expect(unset.pool).toBe(wanted);
    // The pool really has that many threads: as many as when the user asks for that size, and three fewer than for three more.
    expect(unset.threads).toBe(run(wanted).threads);
    expect(run(String(Number(wanted) + 3)).threads).toBe(unset.threads + 3);
  });

  it('keeps a size the user set', () => {
    expect(run('5').pool).toBe('5');
  });
});
