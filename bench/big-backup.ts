/**
 * Makes the benchmark backup, shaped like the race server's: the `current`
 * fixture grown to 300 students, 30 tasks and 7,200 texts (student042 with a
 * 1 MB text among them), and the bulk in other tables and columns, as on the
 * real server: `db_files` contents (60%), `races` descriptions (25%) and
 * `users.latest_json` (15%), hex text that gzip halves. Dumped as
 * `pg_dump | gzip` (big.sql.gz), plain SQL (big.sql) and a custom archive
 * (big.dump), into bench/out/<MB>mb/ (git-ignored), once per size.
 *
 *   BENCH_MB=1050 npx tsx bench/big-backup.ts   (default 200 MB; 1050 is the backup)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PG15, startPg15 } from './pg15.js';

export const OUT = join(import.meta.dirname, 'out');
export const BENCH_MB = Number(process.env.BENCH_MB ?? 200);
/** The student every benchmark exports. */
export const STUDENT = 'student042';

export interface BigBackups {
  plain: string;
  gzip: string;
  custom: string;
}

export function bigBackupPaths(megabytes = BENCH_MB): BigBackups {
  const dir = join(OUT, `${megabytes}mb`);
  return { plain: join(dir, 'big.sql'), gzip: join(dir, 'big.sql.gz'), custom: join(dir, 'big.dump') };
}

/** `n` kB of hex (md5 text), different per row: SQL for one value. */
function hexKb(kb: number, seed: string): string {
  return `(SELECT string_agg(md5(${seed} || '-' || s), '') FROM generate_series(1, ${Math.max(1, Math.round((kb * 1000) / 32))}) s)`;
}

export async function makeBigBackups(megabytes = BENCH_MB): Promise<BigBackups> {
  const paths = bigBackupPaths(megabytes);
  if (Object.values(paths).every((p) => existsSync(p))) return paths;
  mkdirSync(join(OUT, `${megabytes}mb`), { recursive: true });
  const pg = startPg15();
  try {
    const psql = (db: string, ...args: string[]) =>
      execFileSync(join(PG15, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, ...args], { env: pg.env, stdio: ['ignore', 'ignore', 'inherit'] });
    psql('postgres', '-c', 'CREATE ROLE buggy', '-c', 'CREATE ROLE buggy_readonly', '-c', 'CREATE DATABASE buggy_race OWNER buggy');
    execFileSync(join(PG15, 'psql'), ['-X', '-q', '-d', 'buggy_race', '-f', join(import.meta.dirname, '..', 'fixtures', 'generated', 'current', 'plain.sql')], {
      env: pg.env,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const bytes = megabytes * 1e6;
    console.error(`growing the class to 300 students, 30 tasks, 7,200 texts, ${megabytes} MB of bulk ...`);
    // 30 tasks: the fixture's, then copies with new ids and names.
    psql('buggy_race', '-c', `INSERT INTO public.tasks SELECT (jsonb_populate_record(NULL::public.tasks, to_jsonb(t) || jsonb_build_object(
        'id', 100 + g, 'name', t.name || 'X' || g, 'phase', t.phase + 10, 'sort_position', 100 + g))).*
      FROM public.tasks t, generate_series(1, 30) g WHERE t.id = (SELECT min(id) FROM public.tasks) AND g <= 30 - (SELECT count(*) FROM public.tasks)`);
    // 300 students, each a copy of bob's row with its own id and names; latest_json is bulk.
    const jsonKb = (bytes * 0.15) / 300 / 1000;
    psql('buggy_race', '-c', `INSERT INTO public.users SELECT (jsonb_populate_record(NULL::public.users, to_jsonb(u) || jsonb_build_object(
        'id', 1000 + g, 'username', 'student' || lpad(g::text, 3, '0'), 'email', 'student' || g || '@students.example.ac.uk',
        'ext_username', 'u8' || lpad(g::text, 6, '0'), 'ext_id', '8' || lpad(g::text, 6, '0'),
        'latest_json', '{"bulk": "' || ${hexKb(jsonKb, 'g')} || '"}'))).*
      FROM public.users u, generate_series(1, 300) g WHERE u.username = 'bob'`);
    // 24 texts each (7,200), 0.5 to 3 kB; student042's first is 1 MB.
    psql('buggy_race', '-c', `INSERT INTO public.tasktexts (id, created_at, modified_at, user_id, task_id, text)
      SELECT 100000 + g * 100 + k, timestamptz '2026-02-01 10:00+00' + (g || ' minutes')::interval, NULL, 1000 + g, t.id,
             CASE WHEN g = 42 AND k = 1 THEN repeat('A very long report, line after line.' || E'\\n', 27000)
                  ELSE repeat('The buggy needs ' || t.name || E' to work;\\tI tested it by hand. ', 10 + (g * k) % 60) END
      FROM generate_series(1, 300) g, (SELECT id, name, row_number() OVER (ORDER BY id)::int AS k FROM public.tasks) t WHERE t.k <= 24`);
    const files = Math.max(1, Math.round((bytes * 0.6) / 100_000));
    psql('buggy_race', '-c', `INSERT INTO public.db_files (id, type, name, item_id, contents)
      SELECT 100000 + g, 'json', 'bulk-' || g, NULL, ${hexKb(100, 'g')} FROM generate_series(1, ${files}) g`);
    const races = 500;
    psql('buggy_race', '-c', `INSERT INTO public.races SELECT (jsonb_populate_record(NULL::public.races, to_jsonb(r) || jsonb_build_object(
        'id', 100000 + g, 'title', 'Race ' || g, 'race_file_url', 'https://race.example.ac.uk/races/bulk-' || g || '.json', 'desc', ${hexKb((bytes * 0.25) / races / 1000, 'g')}))).*
      FROM public.races r, generate_series(1, ${races}) g WHERE r.id = (SELECT min(id) FROM public.races)`);
    const dump = (args: string, file: string) => {
      execFileSync('sh', ['-c', `${join(PG15, 'pg_dump')} ${args} buggy_race > '${file}.partial'`], { env: pg.env, stdio: 'inherit' });
      renameSync(`${file}.partial`, file);
    };
    dump('', paths.plain);
    dump('-Fc', paths.custom);
    execFileSync('sh', ['-c', `gzip -6 -c '${paths.plain}' > '${paths.gzip}.partial'`], { stdio: 'inherit' });
    renameSync(`${paths.gzip}.partial`, paths.gzip);
  } finally {
    pg.stop();
  }
  for (const p of Object.values(paths)) console.error(`${p}: ${(statSync(p).size / 1e6).toFixed(1)} MB`);
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) await makeBigBackups();
