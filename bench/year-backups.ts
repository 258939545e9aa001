/**
 * Makes a year of nightly backups for the year benchmark: the `current`
 * fixture grown as the race server is in a busy year (300 students, 30 tasks,
 * 9,000 texts of 0.2 to 1.5 kB, 4 MB of race files and 2 MB of users'
 * latest_json: about 3 MB gzipped a night), then 365 nights of edits, each
 * night dumped as the cron job does it (`pg_dump | gzip > buggy_race_bk_YYYYMMDD.sql.gz`).
 * What happens over the year:
 *
 * - in term time, each student adds a sentence to one text once a week; nobody
 *   edits in the holidays (nights 110-125, 215-230 and from 290 on);
 * - student007 wipes most of their texts on night 90, student123 on night 200,
 *   and student250's REPORTX1 shrinks to a line on night 300 (losses on three dates);
 * - student100 is renamed student100x on night 120;
 * - task 10-REPORTX5 is disabled on night 160 (its texts stay);
 * - student200's account is deleted, texts and all, on night 250.
 *
 * Needs PostgreSQL 15 (server, psql, pg_dump): bench/pg15.ts runs it. Output goes to
 * bench/out/year-2/ (git-ignored); made once, whole or not at all.
 *
 *   npx tsx bench/year-backups.ts
 */
import { exec, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PG15 } from './pg15.js';
import { nightFileName, startFixtureServer } from './race-server.js';

/** Named by the events' version: a year made by an earlier generator is not taken for this one. */
export const YEAR = join(import.meta.dirname, 'out', 'year-2');
export const YEAR_NIGHTS = 365;
/** The student the year's history follows: loses texts on night 90. */
export const YEAR_STUDENT = 'student007';
/** The first night; the others follow day by day. */
const FIRST = Date.UTC(2025, 8, 1, 23, 30);
/** Nights being gzipped while the next nights are edited and dumped. */
const GZIPS_AT_ONCE = 2;

function nightFile(dir: string, k: number): string {
  return join(dir, nightFileName(FIRST, k));
}

export function yearPaths(): string[] {
  return Array.from({ length: YEAR_NIGHTS }, (_, k) => nightFile(YEAR, k));
}

/** The night (1-based) the server was put back; the nights after it are the year's first nights again, one by one. */
export const RESTORED_ON = 200;
/** The same year, its server put back to the first night's backup on night RESTORED_ON: an incident that touches every student. */
export const RESTORED_YEAR = `${YEAR}-restored-${RESTORED_ON}`;

/**
 * Makes RESTORED_YEAR from the year (made first if missing): nights before RESTORED_ON are the
 * year's own (hard links), and from it on night n is a copy of night n - RESTORED_ON + 1 (a copy:
 * the tool reads each file once, however many names it has). About 600 MB.
 */
export async function makeRestoredYear(): Promise<string[]> {
  const year = await makeYearBackups();
  const names = year.map((p) => p.slice(YEAR.length + 1));
  const paths = names.map((n) => join(RESTORED_YEAR, n));
  if (paths.every((p) => existsSync(p))) return paths;
  const staging = `${RESTORED_YEAR}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  names.forEach((name, k) => (k + 1 < RESTORED_ON ? linkSync(year[k]!, join(staging, name)) : copyFileSync(year[k + 1 - RESTORED_ON]!, join(staging, name))));
  rmSync(RESTORED_YEAR, { recursive: true, force: true });
  renameSync(staging, RESTORED_YEAR);
  return paths;
}

/** The holidays (nights, 1-based, inclusive), when nobody edits: winter, spring and the summer. */
const HOLIDAYS: [number, number][] = [[110, 125], [215, 230], [290, 365]];
const inTerm = (n: number) => !HOLIDAYS.some(([from, to]) => n >= from && n <= to);

/** What happens on night `n` (1-based), as SQL, beyond the nightly edits. */
const EVENTS: Record<number, string> = {
  90: `DELETE FROM public.tasktexts WHERE user_id = 1007 AND task_id % 3 <> 0`,
  120: `UPDATE public.users SET username = 'student100x' WHERE id = 1100`,
  160: `UPDATE public.tasks SET is_enabled = false WHERE name = 'REPORTX5'`,
  200: `DELETE FROM public.tasktexts WHERE user_id = 1123 AND task_id % 4 <> 1`,
  250: `DELETE FROM public.tasktexts WHERE user_id = 1200; DELETE FROM public.users WHERE id = 1200`,
  300: `UPDATE public.tasktexts SET text = 'see my notebook' WHERE user_id = 1250 AND task_id = (SELECT id FROM public.tasks WHERE name = 'REPORTX1')`,
};

export async function makeYearBackups(): Promise<string[]> {
  const paths = yearPaths();
  if (paths.every((p) => existsSync(p))) return paths;
  const staging = `${YEAR}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const { pg, env, psql } = startFixtureServer();
  try {
    console.error('growing the class to 300 students, 30 tasks, 9,000 texts and 6 MB of bulk ...');
    // 30 tasks: the fixture's, then copies with new ids and names (REPORTX5 among them).
    psql('buggy_race', `INSERT INTO public.tasks SELECT (jsonb_populate_record(NULL::public.tasks, to_jsonb(t) || jsonb_build_object(
        'id', 100 + g, 'name', 'REPORTX' || g, 'phase', t.phase + 10, 'sort_position', 100 + g))).*
      FROM public.tasks t, generate_series(1, 30) g WHERE t.id = (SELECT min(id) FROM public.tasks) AND g <= 30 - (SELECT count(*) FROM public.tasks)`);
    // 300 students, each a copy of bob's row with its own id and names; latest_json is bulk (about 7 kB each).
    psql('buggy_race', `INSERT INTO public.users SELECT (jsonb_populate_record(NULL::public.users, to_jsonb(u) || jsonb_build_object(
        'id', 1000 + g, 'username', 'student' || lpad(g::text, 3, '0'), 'email', 'student' || g || '@students.example.ac.uk',
        'ext_username', 'u8' || lpad(g::text, 6, '0'), 'ext_id', '8' || lpad(g::text, 6, '0'),
        'latest_json', '{"bulk": "' || (SELECT string_agg(md5(g || '-' || s), '') FROM generate_series(1, 220) s) || '"}'))).*
      FROM public.users u, generate_series(1, 300) g WHERE u.username = 'bob'`);
    psql('buggy_race', `INSERT INTO public.tasktexts (id, created_at, modified_at, user_id, task_id, text)
      SELECT 100000 + g * 100 + t.k, timestamptz '2025-09-01 10:00+00' + (g || ' minutes')::interval, NULL, 1000 + g, t.id,
             repeat('The buggy needs ' || t.name || E' to work;\\tI tested it by hand. ', 4 + (g * t.k) % 26)
      FROM generate_series(1, 300) g, (SELECT id, name, row_number() OVER (ORDER BY id)::int AS k FROM public.tasks) t`);
    psql('buggy_race', `INSERT INTO public.db_files (id, type, name, item_id, contents)
      SELECT 100000 + g, 'json', 'race-' || g, NULL, (SELECT string_agg(md5(g || '/' || s), '') FROM generate_series(1, 1250) s)
      FROM generate_series(1, 100) g`);
    const running = new Set<Promise<unknown>>();
    for (let k = 0; k < YEAR_NIGHTS; k++) {
      const night = new Date(FIRST + k * 86_400_000 - 3 * 3_600_000).toISOString();
      if (inTerm(k + 1)) {
        psql('buggy_race', `UPDATE public.tasktexts SET text = text || ' Night ${k + 1}: more testing.', modified_at = '${night}' WHERE (id + ${k}) % 30 = 0 AND (user_id + ${k}) % 7 = 0`);
      }
      const event = EVENTS[k + 1];
      if (event) psql('buggy_race', event);
      // The dump is quick; gzip is most of a night's time, so it runs beside the next nights' edits.
      const file = nightFile(staging, k);
      execFileSync(join(PG15, 'pg_dump'), ['-f', `${file}.sql`, 'buggy_race'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      while (running.size >= GZIPS_AT_ONCE) await Promise.race(running);
      const gzip = promisify(exec)(`gzip -6 -c '${file}.sql' > '${file}' && rm '${file}.sql'`).finally(() => running.delete(gzip));
      running.add(gzip);
      process.stderr.write(`\rnight ${k + 1}/${YEAR_NIGHTS}`);
    }
    await Promise.all(running);
    process.stderr.write('\n');
  } finally {
    pg.stop();
  }
  rmSync(YEAR, { recursive: true, force: true });
  renameSync(staging, YEAR);
  console.error(`${readdirSync(YEAR).length} backups in ${YEAR}`);
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) await makeYearBackups();
