#!/usr/bin/env node
/**
 * The installed command (package.json's bin): it tunes the process for streaming backups (libuv's
 * thread pool and V8's heap growth), then runs main.js.
 *
 * The pool is where node:zlib inflates and files are read. Node's default is 4 threads; this
 * makes it one per core (at least 2). With several backups loading at once, each inflating there
 * while the main thread filters what they inflate, 4 inflating threads on 2 cores crowd the one
 * thread that feeds them all: a year's history (bench/year-backups.ts) took 7.98 s with 4 and
 * 7.60 s with 2, the median of 5 pairs run in turn. The pool starts on its first use, and Node's loader
 * of ES modules uses it to read main.js, so this must run first, from a CommonJS file, which
 * Node reads without it. A size the user set is kept.
 *
 * The heap: a backup streams through in 1 MiB Buffers (node:zlib's output, the file's reads), gigabytes
 * of them over a year of nightly backups, while what stays alive is a few MB. With a live heap of
 * this command's size (about 10 MB: its own code and modules), V8 then keeps the old generation's
 * limit so tight that it runs a full collection every 40-50 ms: 148 of them in a year's history,
 * about 1.2 s of the main thread, against 26 for the same reading in a smaller process. Letting the
 * old generation grow to 6 times what was live at the last full collection (V8 otherwise picks the
 * factor from its own timings, often near 1.1) brings that to 34, and the history to 0.87 of its
 * time (9.53 s to 8.28 s, paired), for about 20 MB more peak memory (157 MB to 179 MB); 4 times was
 * 3% slower, 11 times no faster and 15 MB bigger. Single exports, export-all and scan were
 * unchanged. V8 reads the factor each time it sets the limit, so setting it here takes effect. A
 * --heap-growing-percent the user gave node is kept (`node --heap-growing-percent=0 recover-texts.cjs`
 * gives back V8's own choice).
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
if (!process.execArgv.some((a) => /^--?heap[-_]growing[-_]percent\b/.test(a))) setFlagsFromString('--heap-growing-percent=500');
import('./main.js').catch((e: unknown) => {
  process.stderr.write(`recover-texts: cannot start: ${(e as Error).message}\n`);
  process.exitCode = 70;
});
