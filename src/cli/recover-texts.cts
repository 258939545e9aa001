#!/usr/bin/env node
/**
 * The installed command (package.json's bin): it sizes libuv's thread pool, then runs main.js.
 *
 * The pool is where node:zlib inflates and files are read. Node's default is 4 threads; this
 * makes it one per core (at least 2). With several backups loading at once, each inflating there
 * while the main thread filters what they inflate, 4 inflating threads on 2 cores crowd the one
 * thread that feeds them all: a year's history (bench/year-backups.ts) took 7.98 s with 4 and
 * 7.60 s with 2, the median of 5 pairs run in turn. The pool starts on its first use, and Node's loader
 * of ES modules uses it to read main.js, so this must run first, from a CommonJS file, which
 * Node reads without it. A size the user set is kept.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
import('./main.js').catch((e: unknown) => {
  process.stderr.write(`recover-texts: cannot start: ${(e as Error).message}\n`);
  process.exitCode = 70;
});
