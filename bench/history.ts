/**
 * The history benchmark, both sides measured in one run:
 *
 *   recover-texts history --user bob <30 nightly backups>
 * against what an admin would do with `export` alone:
 *   30 separate `recover-texts export <backup> --user bob` runs, one after another
 *   (each starts and removes its own PostgreSQL).
 *
 * Also history with --jobs 1 (one backup loading at a time), to show what
 * loading concurrently gives. Wall times are medians of RUNS runs; peak RSS is
 * the tool's own process (GNU time %M). The backups are made once by
 * bench/nightly-backups.ts into bench/out/nightly/ (git-ignored).
 *
 *   npx tsx bench/history.ts        (needs PostgreSQL 15 server + client tools, /usr/bin/time)
 */
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { makeNightlyBackups, NIGHTS, WIPE_NIGHT } from './nightly-backups.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall seconds and peak RSS (MB) of one tool run, via GNU time. */
function timeTool(args: string[]): { wall: number; rssMb: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, ...args, '-q'], { encoding: 'utf8', maxBuffer: 1e9 });
  if (r.status !== 0) throw new Error(`recover-texts ${args[0]} failed: ${r.stderr}`);
  const [wall, kb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, rssMb: kb! / 1024, stdout: r.stdout };
}

/** 30 exports, one after another: total wall seconds (measured around the loop). */
function exportsOneByOne(paths: string[]): number {
  const t0 = performance.now();
  for (const p of paths) {
    const r = spawnSync(process.execPath, [CLI, 'export', p, '--user', 'bob', '-q'], { encoding: 'utf8', maxBuffer: 1e9 });
    if (r.status !== 0) throw new Error(`export ${p} failed: ${r.stderr}`);
  }
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const paths = await makeNightlyBackups();
  const bytes = paths.reduce((n, p) => n + statSync(p).size, 0);
  const history: { wall: number; rssMb: number }[] = [];
  const serial: { wall: number; rssMb: number }[] = [];
  const exports: number[] = [];
  let table = '';
  for (let k = 0; k < RUNS; k++) {
    const h = timeTool(['history', '--user', 'bob', ...paths]);
    history.push(h);
    table = h.stdout;
    serial.push(timeTool(['history', '--user', 'bob', '--jobs', '1', ...paths]));
    exports.push(exportsOneByOne(paths));
    process.stderr.write(`run ${k + 1}/${RUNS}: history ${h.wall.toFixed(2)} s, history --jobs 1 ${serial.at(-1)!.wall.toFixed(2)} s, ${NIGHTS} exports ${exports.at(-1)!.toFixed(2)} s\n`);
  }
  // The wipe must be found, on its night: the benchmark measures a run that did the job.
  if (!/LOST on 2026-03-01/.test(table)) throw new Error(`history did not find bob's wipe on night ${WIPE_NIGHT}:\n${table}`);

  const h = median(history.map((x) => x.wall));
  const s = median(serial.map((x) => x.wall));
  const e = median(exports);
  const results = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? '', memGiB: Math.round(totalmem() / 2 ** 30) },
    backups: { count: paths.length, totalMb: bytes / 1e6, each: 'gzip plain dump' },
    runs: RUNS,
    historyWall: h,
    historyRssMb: median(history.map((x) => x.rssMb)),
    historyJobs1Wall: s,
    exportsWall: e,
    speedup: e / h,
  };
  writeFileSync(join(import.meta.dirname, 'out', 'history-results.json'), JSON.stringify(results, null, 2) + '\n');
  const rows = [
    ['| run | wall (median of ' + RUNS + ') | peak RSS |', '| --- | --- | --- |'],
    [`| \`history --user bob\` over ${paths.length} backups (${(bytes / 1e6).toFixed(0)} MB gzip), ${results.machine.cores} loading at once | ${h.toFixed(2)} s | ${results.historyRssMb.toFixed(0)} MB |`],
    [`| the same with \`--jobs 1\` | ${s.toFixed(2)} s | ${median(serial.map((x) => x.rssMb)).toFixed(0)} MB |`],
    [`| ${paths.length} separate \`export --user bob\` runs, one after another | ${e.toFixed(2)} s | |`],
  ].flat();
  console.log(rows.join('\n'));
  console.log(`\nhistory is ${(e / h).toFixed(1)}x faster than ${paths.length} exports (${results.machine.cores} cores, ${results.machine.cpu})`);
}

await main();
