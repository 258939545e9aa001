/**
 * The native archive reader against pg_restore, on the large custom archive from
 * bench/big-backup.ts, in one run, side by side:
 *
 *   native     recover-texts export big.dump --user student042 (reads the archive itself; its time
 *              includes starting and removing its own throwaway PostgreSQL)
 *   -t         a fresh cluster (initdb, start), pg_restore -t users -t tasks -t tasktexts
 *              into it, the student's query, stop
 *   full       a fresh cluster, the whole archive restored with pg_restore, the query, stop
 *
 * Wall times are medians of RUNS runs (BENCH_RUNS, default 3); peak RSS is that of the
 * process doing the reading (recover-texts, or pg_restore), by GNU time's %M. "Reading step
 * alone" is the native reader by itself (in this process: header, TOC, completeness check, the
 * wanted tables' SQL) and pg_restore's own run, to show how little of either total is reading.
 *
 *   npx tsx bench/archive.ts [MB]     (MB of other-table bulk in the archive, default BENCH_MB or 200;
 *                                      needs PostgreSQL 15 server and client tools, /usr/bin/time)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { checkArchiveData, readArchiveInfo, readArchiveSql } from '../src/archive/index.js';
import { startEngine } from '../src/engine/index.js';
import { WANTED_TABLES } from '../src/filter/index.js';
import { BENCH_MB, bigBackupPaths, makeBigBackups, STUDENT } from './big-backup.js';
import { droppedEnvNote, TIMED_ENV } from './timed-env.js';
import { Scope } from '../src/scope.js';

const MB = Number(process.argv[2] ?? BENCH_MB);
const BIG = bigBackupPaths(MB);

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'recover-texts.cjs');
const QUERY = `SELECT t.phase, t.name, x.text, x.created_at, x.modified_at FROM tasktexts x JOIN users u ON u.id = x.user_id JOIN tasks t ON t.id = x.task_id WHERE u.username = '${STUDENT}' ORDER BY t.phase, t.sort_position`;

interface Run {
  wall: number;
  rssMb: number;
  /** The reading step alone: the native reader in-process, or pg_restore's own run. */
  step?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** GNU time's "%e %M" line: wall seconds and peak RSS in KB. */
function parseTime(stderr: string): Run {
  const [wall, kb] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, rssMb: kb! / 1024 };
}

/** The native reader alone, in this process: header, TOC, completeness check, the wanted tables' SQL. */
async function readerAlone(): Promise<number> {
  const t0 = performance.now();
  const info = await readArchiveInfo(BIG.custom);
  await checkArchiveData(BIG.custom, info);
  let bytes = 0;
  for await (const c of readArchiveSql(BIG.custom, info, { tables: WANTED_TABLES })) bytes += (c as Buffer).length;
  if (bytes < 1000) throw new Error('the reader gave no SQL');
  return (performance.now() - t0) / 1000;
}

function native(): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, 'export', BIG.custom, '-u', STUDENT, '-q'], { encoding: 'utf8', maxBuffer: 1e9, env: TIMED_ENV });
  if (r.status !== 0) throw new Error(`recover-texts failed: ${r.stderr}`);
  if (!r.stdout.includes('"task_name"')) throw new Error('recover-texts exported no texts');
  return parseTime(r.stderr);
}

/** A fresh cluster, pg_restore (with `select` arguments) into it, the query, stop: all timed. */
async function viaPgRestore(select: string[]): Promise<Run> {
  const t0 = performance.now();
  // initdb included, as a DBA's fresh cluster (the tool's cached template has no template1 for createdb).
  const server = await startEngine({ kind: 'system', cache: false, log: () => {} }, new Scope());
  let rssMb: number;
  let step: number;
  try {
    const c = server.clientConfig('postgres');
    const env = { ...TIMED_ENV, PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user) };
    execFileSync('createdb', ['race'], { env });
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'pg_restore', '--no-owner', '--no-privileges', '-d', 'race', ...select, BIG.custom], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pg_restore failed: ${r.stderr}`);
    ({ rssMb, wall: step } = parseTime(r.stderr));
    const out = execFileSync('psql', ['-X', '-q', '-A', '-t', '-d', 'race', '-c', QUERY], { env, encoding: 'utf8' });
    if (!out.trim()) throw new Error('the query found no texts');
  } finally {
    await server.stop();
  }
  return { wall: (performance.now() - t0) / 1000, rssMb, step };
}

async function main(): Promise<void> {
  await makeBigBackups(MB);
  const runs: Record<'native' | 'tables' | 'full', Run[]> = { native: [], tables: [], full: [] };
  for (let k = 0; k < RUNS; k++) {
    runs.native.push({ ...native(), step: await readerAlone() });
    runs.tables.push(await viaPgRestore(['-t', 'users', '-t', 'tasks', '-t', 'tasktexts']));
    runs.full.push(await viaPgRestore([]));
    console.error(`run ${k + 1} of ${RUNS} done`);
  }
  const m = (r: Run[]) => ({ wall: median(r.map((x) => x.wall)), rssMb: median(r.map((x) => x.rssMb)), step: median(r.map((x) => x.step ?? 0)) });
  const [n, t, f] = [m(runs.native), m(runs.tables), m(runs.full)];
  const rows = [
    ['recover-texts export (native reader)', n, '1.00x'],
    ['fresh cluster + pg_restore -t users -t tasks -t tasktexts + query', t, `${(n.wall / t.wall).toFixed(2)}x`],
    ['fresh cluster + full pg_restore + query', f, `${(n.wall / f.wall).toFixed(3)}x (native is ${(f.wall / n.wall).toFixed(0)}x faster)`],
  ] as const;
  const head = ['what', 'wall (median)', 'reading step alone', 'peak RSS of the reader', 'native time / this time'];
  const lines = [head, head.map(() => '---'), ...rows.map(([what, r, ratio]) => [what, `${r.wall.toFixed(2)} s`, `${r.step.toFixed(3)} s`, `${r.rssMb.toFixed(0)} MB`, ratio])];
  console.log(`${BIG.custom}: ${(statSync(BIG.custom).size / 1e6).toFixed(0)} MB custom archive, median of ${RUNS} runs, ${new Date().toISOString()}${droppedEnvNote()}\n`);
  console.log(lines.map((r) => `| ${r.join(' | ')} |`).join('\n'));
  console.log(`\ntargets: native <= 0.6x the pg_restore -t time: ${n.wall <= 0.6 * t.wall ? 'met' : 'NOT met'}; >= 30x faster than a full restore: ${f.wall >= 30 * n.wall ? 'met' : 'NOT met'}; peak RSS < 200 MB: ${n.rssMb < 200 ? 'met' : 'NOT met'}`);
}

await main();
