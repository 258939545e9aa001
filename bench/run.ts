/**
 * Export benchmarks, each against the obvious alternative, run side by side:
 *
 *   recover-texts export <backup> --user bob
 * against what an admin does today without it:
 *   a fresh database on an already-running PostgreSQL, the whole backup
 *   restored into it (psql -f for plain SQL, gunzip | psql for gzip,
 *   pg_restore -d for the custom archive), then the same student's query.
 *
 * recover-texts' time includes starting and removing its own PostgreSQL;
 * the alternative is given a running server for free. Wall times are
 * medians of RUNS runs; peak RSS is the tool's own process (GNU time %M).
 *
 *   npm run bench            (needs PostgreSQL 15 server + client tools, /usr/bin/time)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine } from '../src/engine/index.js';
import { BIG, OUT, makeBigBackups } from './big-backup.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const DEMO = join(ROOT, 'fixtures', 'demo', 'buggy_race_bk_20260315.sql.gz');
const QUERY = `SELECT t.phase, t.name, x.text, x.created_at, x.modified_at FROM tasktexts x JOIN users u ON u.id = x.user_id JOIN tasks t ON t.id = x.task_id WHERE u.username = 'bob' ORDER BY t.phase, t.sort_position`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall seconds and peak RSS (MB) of the tool, via GNU time. */
function timeTool(args: string[]): { wall: number; rssMb: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, ...args, '-q'], { encoding: 'utf8', maxBuffer: 1e9 });
  if (r.status !== 0) throw new Error(`recover-texts failed: ${r.stderr}`);
  const [wall, kb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, rssMb: kb! / 1024 };
}

async function main(): Promise<void> {
  await makeBigBackups();
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};

  const demo = Array.from({ length: RUNS }, () => timeTool(['export', DEMO, '-u', 'alice']));
  results.demo = { wall: median(demo.map((d) => d.wall)), rssMb: median(demo.map((d) => d.rssMb)) };
  rows.push(['demo .sql.gz (15 kB)', `${median(demo.map((d) => d.wall)).toFixed(2)} s`, `${median(demo.map((d) => d.rssMb)).toFixed(0)} MB`, '', '']);

  // The alternative's server: PostgreSQL 15 already running (not timed).
  const server = await startEngine({ kind: 'system', log: () => {} });
  try {
    const c = server.clientConfig('postgres');
    const env = { ...process.env, PGPASSWORD: String(c.password), PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user) };
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    sh('psql -X -q -c "CREATE ROLE buggy" -c "CREATE ROLE buggy_ro" postgres');
    let n = 0;
    const baseline = (restore: (db: string) => string) => {
      const db = `bench_${n++}`;
      const t0 = performance.now();
      sh(`createdb ${db} && ${restore(db)} && psql -X -q -d ${db} -c "${QUERY}"`);
      const wall = (performance.now() - t0) / 1000;
      sh(`dropdb ${db}`);
      return wall;
    };
    const cases: [string, string, (db: string) => string][] = [
      ['plain .sql', BIG.plain, (db) => `psql -X -q -d ${db} -f ${BIG.plain}`],
      ['gzip .sql.gz', BIG.gzip, (db) => `gunzip -c ${BIG.gzip} | psql -X -q -d ${db}`],
      ['custom .dump', BIG.custom, (db) => `pg_restore --no-owner -d ${db} ${BIG.custom}`],
    ];
    for (const [label, file, restore] of cases) {
      const tool: { wall: number; rssMb: number }[] = [];
      const alt: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        tool.push(timeTool(['export', file, '-u', 'bob']));
        alt.push(baseline(restore));
      }
      const t = median(tool.map((x) => x.wall));
      const a = median(alt);
      results[label] = { sizeMb: statSync(file).size / 1e6, toolWall: t, toolRssMb: median(tool.map((x) => x.rssMb)), restoreAndQueryWall: a, speedup: a / t };
      rows.push([`${label} (${(statSync(file).size / 1e6).toFixed(0)} MB)`, `${t.toFixed(2)} s`, `${median(tool.map((x) => x.rssMb)).toFixed(0)} MB`, `${a.toFixed(2)} s`, `${(a / t).toFixed(1)}x`]);
    }
  } finally {
    await server.stop();
  }
  const head = ['backup', 'recover-texts export', 'peak RSS', 'full restore + query', 'speed-up'];
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  console.log(`median of ${RUNS} runs, ${new Date().toISOString()}\n\n${table}`);
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
}

await main();
