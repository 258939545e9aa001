/**
 * Makes a month of nightly backups for the history benchmark: the `current`
 * fixture database grown to a class of about 170 students with twelve texts
 * each (about 4 MB of texts) and 10 MB of race-file bulk (db_files), then 30
 * nights of edits, each night dumped as the cron job does it
 * (`pg_dump | gzip > buggy_race_bk_YYYYMMDD.sql.gz`). On night 20 student
 * `bob` wipes most of his texts. Needs PostgreSQL 15 (server, psql, pg_dump):
 * bench/pg15.ts runs it. Output goes to bench/out/nightly/ (git-ignored).
 *
 *   npx tsx bench/nightly-backups.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PG15 } from './pg15.js';
import { nightFileName, startFixtureServer } from './race-server.js';

export const NIGHTLY = join(import.meta.dirname, 'out', 'nightly');
export const NIGHTS = 30;
/** The first night; the others follow day by day. */
const FIRST = Date.UTC(2026, 1, 10, 23, 30);
/** The night bob wipes his texts (1-based). */
export const WIPE_NIGHT = 20;

export function nightFile(k: number): string {
  return join(NIGHTLY, nightFileName(FIRST, k));
}

export function nightlyPaths(): string[] {
  return Array.from({ length: NIGHTS }, (_, k) => nightFile(k));
}

export async function makeNightlyBackups(): Promise<string[]> {
  const paths = nightlyPaths();
  if (paths.every((p) => existsSync(p))) return paths;
  const staging = `${NIGHTLY}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const { pg, env, psql } = startFixtureServer();
  try {
    console.error('growing the class: 160 more students, 12 texts each, and 10 MB of race files ...');
    // Each new student is a copy of bob's row with its own id and names (every NOT NULL column filled).
    psql(
      'buggy_race',
      `INSERT INTO public.users SELECT (jsonb_populate_record(NULL::public.users, to_jsonb(u) || jsonb_build_object(
         'id', 1000 + g, 'username', 'student' || g, 'email', 'student' || g || '@students.example.ac.uk',
         'ext_username', 'u8' || lpad(g::text, 6, '0'), 'ext_id', '8' || lpad(g::text, 6, '0')))).*
       FROM public.users u, generate_series(1, 160) g WHERE u.username = 'bob'`,
    );
    psql(
      'buggy_race',
      `INSERT INTO public.tasktexts (id, created_at, modified_at, user_id, task_id, text)
       SELECT 100000 + g * 100 + t.id, timestamptz '2026-02-01 10:00+00' + (g || ' minutes')::interval, NULL, 1000 + g, t.id,
              repeat('The buggy needs ' || t.name || ' to work; I tested it by hand and wrote it up. ', 20 + (g * t.id) % 60)
       FROM generate_series(1, 160) g, public.tasks t WHERE t.id <= 12`,
    );
    psql(
      'buggy_race',
      `INSERT INTO public.db_files (id, type, name, item_id, contents)
       SELECT 100000 + g, 'json', 'race-' || g, NULL, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 3125) s)
       FROM generate_series(1, 100) g`,
    );
    for (let k = 0; k < NIGHTS; k++) {
      const night = new Date(FIRST + k * 86_400_000 - 3 * 3_600_000).toISOString();
      // Every night about one text in twelve is edited (grows), bob's 3-REPORT always.
      psql(
        'buggy_race',
        `UPDATE public.tasktexts SET text = text || ' Night ${k + 1}: more detail on testing.', modified_at = '${night}'
         WHERE (id + ${k}) % 12 = 0 OR (user_id = (SELECT id FROM public.users WHERE username = 'bob') AND task_id = (SELECT id FROM public.tasks WHERE name = 'REPORT' LIMIT 1))`,
      );
      if (k + 1 === WIPE_NIGHT) {
        psql('buggy_race', `DELETE FROM public.tasktexts WHERE user_id = (SELECT id FROM public.users WHERE username = 'bob') AND id % 2 = 0`);
        psql('buggy_race', `UPDATE public.tasktexts SET text = 'oops', modified_at = '${night}' WHERE user_id = (SELECT id FROM public.users WHERE username = 'bob') AND task_id = (SELECT id FROM public.tasks WHERE name = 'REPORT' LIMIT 1)`);
      }
      const file = join(staging, nightFile(k).split('/').at(-1)!);
      execFileSync('sh', ['-c', `${join(PG15, 'pg_dump')} buggy_race | gzip -6 > '${file}'`], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      process.stderr.write(`\rnight ${k + 1}/${NIGHTS}`);
    }
    process.stderr.write('\n');
  } finally {
    pg.stop();
  }
  rmSync(NIGHTLY, { recursive: true, force: true });
  renameSync(staging, NIGHTLY);
  console.error(`${readdirSync(NIGHTLY).length} backups in ${NIGHTLY}`);
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) await makeNightlyBackups();
