/**
 * Fixtures for pg_dumpall files: `npm run fixtures:dumpall` (tsx scripts/make-dumpall-fixtures.ts).
 *
 * What many Docker setups back up: `docker exec db pg_dumpall -U postgres | gzip > all.sql.gz`.
 * One file holds every database of the cluster, each after a `\connect` line; here the race
 * server's `buggy_race` (built from the fixture model, scripts/fixtures/) shares its cluster
 * with another application, `todo-app`, which also has a `users` table (and a `tasks` table,
 * but no texts). Its name needs quoting, so pg_dumpall connects to it with
 * `\connect -reuse-previous=on "dbname='todo-app'"`; the others get the plain `\connect NAME`.
 *
 * On a throwaway PostgreSQL 15 cluster (scripts/fixtures/cluster.ts; as root, the server runs as
 * `postgres`), pg_dumpall 15 writes:
 *   fixtures/dumpall/nightly/buggy_all_20260314.sql.gz   night 1: buggy_race, todo-app
 *   fixtures/dumpall/nightly/buggy_all_20260315.sql.gz   night 2: ada edited a text, grace deleted one
 *   fixtures/dumpall/two-races.sql.gz                    night 2 plus last year's race database, buggy_race_2025
 *   fixtures/dumpall/created.sql.gz                      pg_dump --create of night 2's buggy_race alone
 *                                                        (one database, one `\connect`)
 *   fixtures/dumpall/expected/<night or database>/<username>.json   from the model, not PostgreSQL
 *   fixtures/dumpall/manifest.json
 *
 * Deterministic: fixed data and timestamps, a fixed --restrict-key, gzip with mtime 0; no role
 * has a password (a SCRAM secret would be salted afresh each run).
 * Environment: PG_BIN_DIR (PostgreSQL 15 server binaries), PG_DUMPALL (pg_dumpall 15,
 * default /usr/bin/pg_dumpall), PG_DUMP (pg_dump 15).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDatabase, dropDatabase } from './fixtures/build.js';
import { Cluster } from './fixtures/cluster.js';
import { publishStaging } from './fixtures/publish.js';
import { gzip, parseCommand, PG_DUMP_15, pgDumpVersion, runPgDump } from './fixtures/dump.js';
import { expectedExport, toJsonFile } from './fixtures/expected.js';
import { buildModel, PROFILES, type DbModel } from './fixtures/model.js';
import type { TaskSpec, TextSpec, UserSpec } from './fixtures/content.js';
import { utc, type Micros } from './fixtures/time.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'fixtures', 'dumpall');
const PG_DUMPALL = process.env.PG_DUMPALL ?? '/usr/bin/pg_dumpall';
const RESTRICT_KEY = 'dumpallfixture';
const OTHER_APP = 'todo-app';

const user = (key: string, id: number, first: string, last: string, isStudent = true): UserSpec => ({
  key, id, username: key, firstName: first, lastName: last, extUsername: isStudent ? `u20${String(id).padStart(5, '0')}` : null,
  extId: isStudent ? `20${String(id).padStart(5, '0')}` : null, isStudent, isActive: true, isAdmin: !isStudent, accessLevel: isStudent ? 0 : 9,
});
const USERS: UserSpec[] = [user('admin', 1, 'Sam', 'Staff', false), user('ada', 2, 'Ada', 'Lovelace'), user('grace', 3, 'Grace', 'Hopper'), user('linus', 4, 'Linus', 'Torvalds')];
const task = (key: string, id: number, phase: number, name: string, sortPosition: number): TaskSpec => ({ key, id, phase, name, title: `Task ${key}`, isEnabled: true, sortPosition });
const TASKS: TaskSpec[] = [task('0-CHANGE', 1, 0, 'CHANGE', 10), task('1-TEMPLATE', 2, 1, 'TEMPLATE', 10), task('1-ADD', 3, 1, 'ADD', 20), task('3-REPORT', 4, 3, 'REPORT', 10)];

/** The race database on one night; night 2 has ada's 1-TEMPLATE edited and grace's 1-ADD deleted. */
function raceModel(night: 1 | 2, dbName = 'buggy_race'): DbModel {
  const texts: Array<TextSpec & { at: [string, string | null] }> = [
    { user: 'ada', task: '0-CHANGE', text: 'Changed the heading to "Ada\'s Buggies"; it showed after a reload.', at: ['2026-03-02 10:00:00', null] },
    {
      user: 'ada',
      task: '1-TEMPLATE',
      text: night === 1 ? 'A first go at the info page.\r\n' : 'The info page lists every part and its cost.\r\nIt extends base.html. \u{1F3CE}\uFE0F\r\n',
      at: ['2026-03-05 14:30:00', night === 1 ? null : '2026-03-15 20:45:30.5'],
    },
    { user: 'ada', task: '3-REPORT', text: 'My approach: small steps, each one committed.', at: ['2026-03-10 09:15:00', '2026-03-12 18:00:00'] },
    { user: 'grace', task: '0-CHANGE', text: 'Found the template and changed the title.', at: ['2026-03-03 11:00:00', null] },
    ...(night === 1 ? [{ user: 'grace', task: '1-ADD', text: 'Added tyres and armour to the form.', at: ['2026-03-11 16:20:00', null] as [string, null] }] : []),
    { user: 'linus', task: '0-CHANGE', text: 'Changed the footer.\n\\.\nA line that is just the COPY end marker, above.', at: ['2026-03-04 08:00:00', null] },
  ];
  const fixedTimes = new Map<number, { created: Micros; modified: Micros | null }>();
  texts.forEach((t, i) => fixedTimes.set(i, { created: utc(t.at[0]), modified: t.at[1] === null ? null : utc(t.at[1]) }));
  return buildModel({
    name: dbName === 'buggy_race' ? `night${night}` : dbName,
    dbName,
    description: 'A small race server database (schema of March 2026, alembic 4e6d71ff8faa).',
    flavour: { schema: 'current', alembicVersion: '4e6d71ff8faa', userNoticeColumns: false, owner: 'buggy', heroku: false },
    profile: { ...PROFILES.current, seed: `recover-texts/dumpall/${dbName}`, windowStart: utc('2026-02-23 09:00:00'), windowEnd: utc('2026-03-15 22:00:00'), backupAt: utc(`2026-03-1${night + 3} 23:30:00`) },
    users: USERS,
    tasks: TASKS,
    texts: texts.map(({ at: _at, ...t }) => t),
    fixedTimes,
    withBulk: false,
    dbCases: [],
  });
}

/** Another application's database in the same cluster: its own users (ada again, and otto, who is not on the race server) and tasks. */
const OTHER_USERS = [
  { id: 1, username: 'ada', email: 'ada@todo.example.com' },
  { id: 2, username: 'otto', email: 'otto@todo.example.com' },
];
async function buildOtherApp(cluster: Cluster): Promise<void> {
  await dropDatabase(cluster, OTHER_APP);
  const admin = await cluster.connect('postgres');
  try {
    await admin.query(`CREATE DATABASE "${OTHER_APP}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  const c = await cluster.connect(OTHER_APP);
  try {
    await c.query(`
      CREATE TABLE public.users (id integer PRIMARY KEY, username varchar(80) NOT NULL UNIQUE, email varchar(120), password_hash text, created_at timestamp with time zone);
      CREATE TABLE public.tasks (id integer PRIMARY KEY, user_id integer REFERENCES public.users(id), title text NOT NULL, done boolean NOT NULL);
    `);
    for (const u of OTHER_USERS) {
      await c.query('INSERT INTO public.users VALUES ($1, $2, $3, $4, $5)', [u.id, u.username, u.email, `pbkdf2:sha256:todo-fixture-hash-${u.id}`, '2026-01-10 12:00:00+00']);
    }
    await c.query(`INSERT INTO public.tasks VALUES (1, 1, 'Buy milk', false), (2, 2, 'Water the plants', true), (3, 2, 'Write to Ada', false)`);
  } finally {
    await c.end();
  }
}

async function dumpall(cluster: Cluster, file: string): Promise<void> {
  const tmp = `${file}.sql`;
  await runPgDump([PG_DUMPALL], [...cluster.connArgs(), `--restrict-key=${RESTRICT_KEY}`, '-f', tmp]);
  await fs.writeFile(file, gzip(await fs.readFile(tmp)));
  await fs.rm(tmp);
}

/** The \connect lines of a plain dump, in order (what the tests expect the tool to see). */
async function connects(file: string): Promise<string[]> {
  const { gunzipSync } = await import('node:zlib');
  return gunzipSync(await fs.readFile(file)).toString('utf8').split('\n').filter((l) => l.startsWith('\\connect'));
}

async function writeExpected(model: DbModel, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const u of model.users) await fs.writeFile(path.join(dir, `${u.username}.json`), toJsonFile(expectedExport(model, u)));
}

const usersOf = (m: DbModel) => m.users.map((u) => ({ username: u.username, userId: u.id, isStudent: u.isStudent, textCount: m.texts.filter((t) => t.userId === u.id).length }));

async function main(): Promise<void> {
  const staging = await fs.mkdtemp(path.join(ROOT, 'fixtures', '.dumpall-staging-'));
  let cluster: Cluster | undefined;
  const stop = () => void cluster?.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    cluster = await Cluster.start();
    await fs.mkdir(path.join(staging, 'nightly'), { recursive: true });
    await buildOtherApp(cluster);
    const files: Record<string, { databases: string[]; connects: string[]; raceDatabases: string[]; madeWith: string }> = {};
    const note = async (rel: string, raceDatabases: string[], madeWith: string) => {
      const lines = await connects(path.join(staging, rel));
      const database = (l: string) => /dbname='([^']+)'/.exec(l)?.[1] ?? l.split(' ').at(-1)!;
      files[rel] = { databases: [...new Set(lines.map(database))], connects: lines, raceDatabases, madeWith };
    };
    const nights = [raceModel(1), raceModel(2)];
    for (const [k, m] of nights.entries()) {
      await buildDatabase(cluster, m);
      const rel = `nightly/buggy_all_2026031${4 + k}.sql.gz`;
      await dumpall(cluster, path.join(staging, rel));
      await note(rel, ['buggy_race'], `pg_dumpall --restrict-key=${RESTRICT_KEY} | gzip`);
      await writeExpected(m, path.join(staging, 'expected', `2026031${4 + k}`));
    }
    // Night 2 is still in the cluster.
    const created = path.join(staging, 'created.sql');
    await runPgDump(parseCommand(PG_DUMP_15), [...cluster.connArgs(), '--create', `--restrict-key=${RESTRICT_KEY}`, '-f', created, 'buggy_race']);
    await fs.writeFile(`${created}.gz`, gzip(await fs.readFile(created)));
    await fs.rm(created);
    await note('created.sql.gz', ['buggy_race'], `pg_dump --create --restrict-key=${RESTRICT_KEY} buggy_race | gzip`);
    const lastYear = raceModel(1, 'buggy_race_2025');
    await buildDatabase(cluster, lastYear);
    await dumpall(cluster, path.join(staging, 'two-races.sql.gz'));
    await note('two-races.sql.gz', ['buggy_race', 'buggy_race_2025'], `pg_dumpall --restrict-key=${RESTRICT_KEY} | gzip`);
    await writeExpected(lastYear, path.join(staging, 'expected', 'buggy_race_2025'));

    const manifest = {
      generatedBy: 'scripts/make-dumpall-fixtures.ts',
      pgDumpall: pgDumpVersion([PG_DUMPALL]),
      files,
      race: { night1: usersOf(nights[0]!), night2: usersOf(nights[1]!), buggy_race_2025: usersOf(lastYear) },
      otherApp: { database: OTHER_APP, users: OTHER_USERS.map((u) => u.username) },
      // Settings named like secrets include flags such as "0": only values that could only be secrets.
      secrets: [...new Set([...nights.flatMap((m) => m.secrets), ...lastYear.secrets, ...OTHER_USERS.map((u) => `pbkdf2:sha256:todo-fixture-hash-${u.id}`)])].filter((x) => x.length >= 8),
    };
    await publishStaging(staging, OUT, manifest, 'make-dumpall-fixtures', ROOT);
  } finally {
    await cluster?.stop();
    await fs.rm(staging, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`make-dumpall-fixtures: error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
