/**
 * `npm run bench`: every recover-texts command against its floor and against
 * what a DBA would do without it, measured side by side in one run and
 * printed as one table.
 *
 * Runs are interleaved (round k runs every case once) so that load from
 * anything else on the machine falls on all cases alike; each case's wall
 * time is the median of BENCH_RUNS rounds. Peak RSS (GNU time %M) is given
 * for processes of ours: the tool and the floors. The alternatives restore
 * into a PostgreSQL 15 server that is already running (not timed): the
 * comparison gives them their server for free.
 *
 *   npm run bench                     (BENCH_MB=200 of bulk, BENCH_RUNS=3)
 *   BENCH_MB=1050 npm run bench       the 1.05 GB backup
 *   BENCH_ONLY=demo npm run bench     only the groups whose title matches (a regex)
 *   BENCH_MB=1050 BENCH_ONLY=url npm run bench   export over http from nginx at 10 MB/s (Debian's nginx)
 *
 * Needs PostgreSQL 15 (server and client tools, /usr/lib/postgresql/15/bin or
 * BENCH_PG_BIN) and GNU time (/usr/bin/time). Writes bench/out/results.json.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startNginx, type Nginx } from '../test/nginx.js';
import { BENCH_MB, OUT, STUDENT, bigBackupPaths, makeBigBackups } from './big-backup.js';
import { floorCommand } from './floors.js';
import { makeNightlyBackups, NIGHTS } from './nightly-backups.js';
import { makeRestoredYear, makeYearBackups, RESTORED_ON, RESTORED_YEAR, YEAR, YEAR_NIGHTS, YEAR_STUDENT } from './year-backups.js';
import { PG15, bareClusterCycle, startPg15 } from './pg15.js';
import { droppedEnvNote, TIMED_ENV } from './timed-env.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'recover-texts.cjs');
const DEMO = join(ROOT, 'fixtures', 'demo', 'buggy_race_bk_20260315.sql.gz');
const QUERY = `SELECT t.phase, t.name, x.text, x.created_at, x.modified_at FROM tasktexts x JOIN users u ON u.id = x.user_id JOIN tasks t ON t.id = x.task_id WHERE u.username = '${STUDENT}' ORDER BY t.phase, t.sort_position`;
const CORES = availableParallelism();
const ONLY = new RegExp(process.env.BENCH_ONLY ?? '', 'i');
/** The memory file system the tool's own cluster goes in when it can (src/tempdir.ts). */
const MEMORY_DIR = '/dev/shm';

interface Sample {
  wall: number;
  rssMb?: number;
  /** Over a URL: the body bytes nginx sent for the run (its access log). */
  sentMb?: number;
}

/** Wall seconds and peak RSS of one process, via GNU time. */
function timed(argv: string[]): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { encoding: 'utf8', maxBuffer: 1e9, stdio: ['ignore', 'ignore', 'pipe'], env: TIMED_ENV });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const [wall, kb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, rssMb: kb! / 1024 };
}

const tool = (...args: string[]) => () => timed([process.execPath, CLI, ...args, '-q']);

/** Whether the built command has `name` (a command being written may not be there yet). */
const hasCommand = (name: string) => spawnSync(process.execPath, [CLI, name, '--help'], { stdio: 'ignore', env: TIMED_ENV }).status === 0;

function wallOf(fn: () => void): Sample {
  const t0 = performance.now();
  fn();
  return { wall: (performance.now() - t0) / 1000 };
}

/** Start + stop of the tool's default engine, in a fresh node process (importing the built engine). */
const ENGINE_CYCLE = `
const { startEngine } = await import(${JSON.stringify(join(ROOT, 'dist', 'engine', 'index.js'))});
const engine = await startEngine({ kind: 'embedded', log() {} });
await engine.stop();
`;

interface Case {
  group: string;
  label: string;
  /** 'tool' rows are ours; a floor or an alternative is compared with its group's tool row. */
  role: 'tool' | 'floor' | 'alternative';
  run: () => Sample;
  samples: Sample[];
}

const mb = (path: string) => `${(statSync(path).size / 1e6).toFixed(0)} MB`;

/** bench/lag-proxy.mjs in front of `port`, holding each piece `ms` each way, as its own process; its port. */
async function startLagProxy(port: number, ms: number): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'lag-proxy.mjs'), String(port), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { port: Number(String(line).trim()), stop: () => child.kill() };
}

async function main(): Promise<void> {
  // Backups are made (once, then cached) only for the groups selected.
  const big = ['export, .sql.gz', 'export, plain .sql', 'export, custom archive', 'url'].some((t) => ONLY.test(t)) ? await makeBigBackups() : bigBackupPaths();
  const nightly = ONLY.test('history, nightly') ? await makeNightlyBackups() : [];
  const nightlyMb = nightly.reduce((n, p) => n + statSync(p).size, 0) / 1e6;
  const year = ONLY.test('year') ? await makeYearBackups() : [];
  const restored = ONLY.test('year') ? await makeRestoredYear() : [];
  const restoredMb = restored.reduce((n, p) => n + statSync(p).size, 0) / 1e6;
  const yearMb = year.reduce((n, p) => n + statSync(p).size, 0) / 1e6;
  const server = startPg15();
  // The url group: Debian's nginx serves the big backups over plain http (TLS would add nothing
  // to compare, and the timed processes run without NODE_EXTRA_CA_CERTS) at 10 MB/s a request.
  const webDir = ONLY.test('url') ? mkdtempSync(join(tmpdir(), 'rt-bench-nginx-')) : undefined;
  let web: Nginx | undefined;
  let lag: { port: number; stop: () => void } | undefined;
  try {
    if (webDir) web = await startNginx(webDir, dirname(big.custom), { limitRate: '10m' });
    if (web) lag = await startLagProxy(Number(new URL(web.http).port), 10);
    execFileSync(join(PG15, 'psql'), ['-X', '-q', '-c', 'CREATE ROLE buggy', '-c', 'CREATE ROLE buggy_readonly'], { env: server.env, stdio: 'ignore' });
    let n = 0;
    /** A fresh database on the running server, `restore` into it, then the query. */
    const restoreAndQuery = (restore: (db: string) => string) => () => {
      const db = `bench_${n++}`;
      const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { env: { ...server.env, PATH: `${PG15}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'pipe'] });
      const s = wallOf(() => sh(`createdb ${db} && ${restore(db)} && psql -X -q -d ${db} -c "${QUERY}"`));
      sh(`dropdb ${db}`);
      return s;
    };
    const psqlQuiet = 'psql -X -q -o /dev/null';
    const cases: Case[] = [];
    const add = (group: string, role: Case['role'], label: string, run: () => Sample) => {
      if (ONLY.test(group)) cases.push({ group, label, role, run, samples: [] });
    };

    const size = (path: string) => (existsSync(path) ? mb(path) : 'not made');
    let g = `export, .sql.gz (${size(big.gzip)})`;
    add(g, 'tool', `recover-texts export --user ${STUDENT}`, tool('export', big.gzip, '-u', STUDENT));
    add(g, 'floor', 'floor: inflate with node:zlib, 1 MiB chunks', () => timed(floorCommand('inflate', [big.gzip])));
    add(g, 'floor', 'inflate with node:zlib defaults (16 KiB chunks)', () => timed(floorCommand('inflate16', [big.gzip])));
    add(g, 'alternative', 'full restore (gunzip | psql) + query', restoreAndQuery((db) => `gunzip -c ${big.gzip} | ${psqlQuiet} -d ${db}`));

    g = `export, plain .sql (${size(big.plain)})`;
    add(g, 'tool', `recover-texts export --user ${STUDENT}`, tool('export', big.plain, '-u', STUDENT));
    add(g, 'floor', 'floor: read the file, 1 MiB reads', () => timed(floorCommand('read', [big.plain])));
    add(g, 'alternative', 'full restore (psql -f) + query', restoreAndQuery((db) => `${psqlQuiet} -d ${db} -f ${big.plain}`));

    g = `export, custom archive (${size(big.custom)})`;
    add(g, 'tool', `recover-texts export --user ${STUDENT}`, tool('export', big.custom, '-u', STUDENT));
    add(g, 'floor', 'floor: read and inflate only the wanted data blocks', () => timed(floorCommand('blocks', [big.custom])));
    add(g, 'alternative', 'pg_restore -t users -t tasks -t tasktexts + query', restoreAndQuery((db) => `pg_restore --no-owner -t users -t tasks -t tasktexts -d ${db} ${big.custom}`));
    add(g, 'alternative', 'full restore (pg_restore -d) + query', restoreAndQuery((db) => `pg_restore --no-owner -d ${db} ${big.custom}`));

    g = 'engine start-up';
    add(g, 'tool', 'start + stop the embedded engine (a node process)', () => timed([process.execPath, '--input-type=module', '-e', ENGINE_CYCLE]));
    add(g, 'alternative', 'bare initdb + start + stop, PostgreSQL 15', () => wallOf(() => bareClusterCycle()));

    g = 'README demo export (15 kB .sql.gz)';
    add(g, 'tool', 'recover-texts export --user alice, whole process', tool('export', DEMO, '-u', 'alice'));
    add(g, 'alternative', 'bare initdb + start + stop, PostgreSQL 15', () => wallOf(() => bareClusterCycle()));
    // The tool's cluster is in memory when it can be: the same cycle there, for a like-for-like view.
    if (existsSync(MEMORY_DIR)) add(g, 'alternative', `the same, its cluster in ${MEMORY_DIR}`, () => wallOf(() => bareClusterCycle(MEMORY_DIR)));

    g = `history, ${NIGHTS} nightly .sql.gz (${nightlyMb.toFixed(0)} MB)`;
    add(g, 'tool', 'recover-texts history --user bob', tool('history', '--user', 'bob', ...nightly));
    add(g, 'floor', `floor: inflate all ${NIGHTS}, one after another`, () => timed(floorCommand('inflate', nightly)));
    add(g, 'floor', `inflate all ${NIGHTS}, ${CORES} at once`, () => timed(floorCommand('inflate', nightly, CORES)));
    add(g, 'alternative', `${NIGHTS} separate recover-texts exports`, () => wallOf(() => nightly.forEach((p) => tool('export', p, '-u', 'bob')())));

    // A year of the docs' cron: the folder as an admin gives it. Every recover-texts row is compared with both floors.
    g = `year: ${YEAR_NIGHTS} nightly .sql.gz (${yearMb.toFixed(0)} MB)`;
    add(g, 'tool', `recover-texts history --user ${YEAR_STUDENT}`, tool('history', '--user', YEAR_STUDENT, YEAR));
    if (ONLY.test(g) && hasCommand('scan')) add(g, 'tool', 'recover-texts scan', tool('scan', YEAR));
    add(g, 'floor', `floor: inflate all ${YEAR_NIGHTS}, one after another`, () => timed(floorCommand('inflate', year)));
    add(g, 'floor', `inflate all ${YEAR_NIGHTS}, two at once`, () => timed(floorCommand('inflate', year, 2)));

    // The incident scan is for: every student's texts shrink on one night, so every student's history is built at its end.
    g = `year, its server put back to the first night's backup on night ${RESTORED_ON} (${restoredMb.toFixed(0)} MB)`;
    add(g, 'tool', 'recover-texts scan', tool('scan', RESTORED_YEAR));
    add(g, 'floor', `floor: inflate all ${YEAR_NIGHTS}, one after another`, () => timed(floorCommand('inflate', restored)));

    if (web) {
      const site = { ...web, lagged: lag!.port };
      const url = (path: string) => `${site.http}/slow/${basename(path)}`;
      /** The run, and what nginx sent for it. */
      const counted = (run: () => Sample) => (): Sample => {
        const since = site.mark();
        const sample = run();
        return { ...sample, sentMb: site.bytesSent('/slow/', since) / 1e6 };
      };
      const download = (path: string) => () => timed(['curl', '-sSf', '-o', '/dev/null', url(path)]);
      const downloadAndExport = (path: string) => () => {
        const dir = mkdtempSync(join(tmpdir(), 'rt-bench-download-'));
        try {
          const file = join(dir, basename(path));
          return wallOf(() => {
            execFileSync('curl', ['-sSf', '-o', file, url(path)], { env: TIMED_ENV });
            execFileSync(process.execPath, [CLI, 'export', file, '-u', STUDENT, '-q'], { env: TIMED_ENV, stdio: 'ignore' });
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      };
      g = `url: custom archive (${size(big.custom)}) at 10 MB/s`;
      add(g, 'tool', `recover-texts export URL --user ${STUDENT}`, counted(tool('export', url(big.custom), '-u', STUDENT)));
      add(g, 'alternative', 'download it (curl to /dev/null)', counted(download(big.custom)));
      // Through a 20 ms round trip (a proxy holding each piece 10 ms each way): what reading a block's next pieces ahead is for.
      const far = (path: string) => `http://127.0.0.1:${site.lagged}/slow/${basename(path)}`;
      g = `url: custom archive (${size(big.custom)}) at 10 MB/s, 20 ms away`;
      add(g, 'tool', `recover-texts export URL --user ${STUDENT}`, counted(tool('export', far(big.custom), '-u', STUDENT)));
      add(g, 'alternative', 'download it (curl to /dev/null)', counted(() => timed(['curl', '-sSf', '-o', '/dev/null', far(big.custom)])));
      g = `url: .sql.gz (${size(big.gzip)}) at 10 MB/s`;
      add(g, 'tool', `recover-texts export URL --user ${STUDENT}`, counted(tool('export', url(big.gzip), '-u', STUDENT)));
      add(g, 'alternative', 'download it (curl to a file), then export the file', counted(downloadAndExport(big.gzip)));
    }

    for (let k = 0; k < RUNS; k++) {
      for (const c of cases) c.samples.push(c.run());
      process.stderr.write(`round ${k + 1}/${RUNS} done\n`);
    }
    printTable(cases);
  } finally {
    lag?.stop();
    await web?.stop();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
    server.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function printTable(cases: Case[]): void {
  const wall = (c: Case) => median(c.samples.map((s) => s.wall));
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  let group = '';
  for (const c of cases) {
    const ours = cases.find((x) => x.group === c.group && x.role === 'tool')!;
    const w = wall(c);
    const rss = c.samples[0]?.rssMb === undefined ? undefined : median(c.samples.map((s) => s.rssMb!));
    // Always recover-texts' time over this row's: a floor's is at least 1, an alternative's below 1 when we win.
    // A group's further recover-texts rows (the year's scan) give their own time over each of its floors.
    const r = wall(ours) / w;
    const floors = cases.filter((x) => x.group === c.group && x.role === 'floor');
    const ratio = c.role === 'tool' ? (c === ours ? '' : floors.map((f) => `${(w / wall(f)).toFixed(2)}x`).join(', ') + ' of the floors') : `${r.toFixed(2)}x` + (c.role === 'floor' ? '' : r <= 1 ? ` (${(1 / r).toFixed(1)}x faster)` : ` (${r.toFixed(1)}x slower)`);
    const sent = c.samples[0]?.sentMb === undefined ? '' : `; ${median(c.samples.map((s) => s.sentMb!)).toFixed(1)} MB sent`;
    rows.push([c.group === group ? '' : c.group, (c.label + sent).replace(/\|/g, '\\|'), `${w.toFixed(2)} s`, rss === undefined ? '' : `${rss.toFixed(0)} MB`, ratio]);
    results.push({ group: c.group, label: c.label, role: c.role, wallMedian: w, rssMb: rss, walls: c.samples.map((s) => s.wall), sentMb: c.samples.map((s) => s.sentMb) });
    group = c.group;
  }
  const head = ['benchmark', 'run', `wall (median of ${RUNS})`, 'peak RSS', 'recover-texts / this'];
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const machine = `${CORES} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  console.log(`${new Date().toISOString()}, ${machine}, BENCH_MB=${BENCH_MB}${droppedEnvNote()}\n\n${table}`);
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ machine, benchMb: BENCH_MB, runs: RUNS, results }, null, 2) + '\n');
}

await main();
