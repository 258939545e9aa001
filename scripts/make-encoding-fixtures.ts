/**
 * Fixtures for backups of databases whose encoding is not UTF8:
 * `npm run fixtures:encodings` (tsx scripts/make-encoding-fixtures.ts).
 *
 * Two small race-server databases on a throwaway PostgreSQL 15 cluster (see
 * scripts/fixtures/cluster.ts; as root, the server runs as `postgres`):
 *  - latin1:   ENCODING LATIN1 (createdb -E LATIN1 -T template0 --locale=C). The server
 *              converts, so every text has one right answer.
 *  - sqlascii: ENCODING SQL_ASCII, which stores whatever bytes the client sent and
 *              converts nothing: valid UTF-8 from one student, LATIN1 bytes from another,
 *              WIN1252 bytes (curly quotes, euro sign) from a third, and a task whose name
 *              is LATIN1 bytes.
 * Each is dumped with pg_dump 15 (plain COPY, --inserts, custom archive). Expected exports are
 * computed from the model below, not by asking PostgreSQL:
 *   fixtures/encodings/<db>/expected/<username>.json            the export, when one is right
 *   fixtures/encodings/<db>/expected/<username>.<ENC>.json      with --backup-encoding ENC
 *   fixtures/encodings/manifest.json                            what each student expects
 * (for a refused student: the task names the error must give), and the secrets.
 *
 * Deterministic: fixed data and timestamps, a fixed --restrict-key; archives are kept when
 * they restore to the same SQL as before (see keepUnchangedArchive).
 * Environment: PG_BIN_DIR (PostgreSQL 15 server binaries), PG_DUMP (pg_dump 15).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from './fixtures/cluster.js';
import { publishStaging } from './fixtures/publish.js';
import { keepUnchangedArchive, parseCommand, PG_DUMP_15, pgDumpVersion, plainDump, runPgDump, type DumpPlan } from './fixtures/dump.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'fixtures', 'encodings');

/** How a value's characters become the bytes the server stores. */
type Bytes = 'server' | 'utf8' | 'latin1' | 'win1252';

interface Text {
  id: number;
  user: number;
  task: number;
  text: string;
  bytes: Bytes;
  created: string;
  modified: string | null;
}

interface DbModel {
  name: string;
  encoding: 'LATIN1' | 'SQL_ASCII';
  description: string;
  users: { id: number; username: string; first: string; last: string; bytes: Bytes; password: string; token: string; email: string }[];
  tasks: { id: number; phase: number; name: string; sort: number; enabled: boolean; bytes: Bytes }[];
  texts: Text[];
  /** username -> what the tool must do (see manifest). */
  expect: Record<string, { refusedTasks?: string[]; withEncoding?: string[] }>;
}

const CRLF = '\r\n';
const latin1Texts = {
  cafe: `Café crème, naïve façade, £5, ¿qué?, «guillemets», ÿ ß µ ¼ ½ ¾ × ÷${CRLF}Second line\twith a tab, a backslash \\ and${CRLF}\\.${CRLF}`,
  zoe: 'Zoë wrote: Ærø, Ñandú, Übermaß, déjà vu.\n\\N',
  plain: 'Just ASCII here; nothing to convert.',
};

const secretsOf = (id: number) => ({
  password: `$2b$12$encodingFixtureHash${id}abcdefghijklmnopqrstuv`,
  token: `gho_encFixtureToken${id}XyZ0123456789`,
  email: `student${id}@uni.example.ac.uk`,
});

const models: DbModel[] = [
  {
    name: 'latin1',
    encoding: 'LATIN1',
    description: 'A LATIN1 database: pg_dump writes SET client_encoding = LATIN1 and LATIN1 bytes; the loader lets PostgreSQL convert.',
    users: [
      { id: 1, username: 'zoe', first: 'Zoë', last: 'Ólafsdóttir', bytes: 'server', ...secretsOf(1) },
      { id: 2, username: 'francois', first: 'François', last: 'Lefèvre', bytes: 'server', ...secretsOf(2) },
    ],
    tasks: [
      { id: 1, phase: 0, name: 'GET', sort: 10, enabled: true, bytes: 'server' },
      { id: 2, phase: 1, name: 'CAFÉ', sort: 10, enabled: true, bytes: 'server' },
    ],
    texts: [
      { id: 10, user: 1, task: 1, text: latin1Texts.zoe, bytes: 'server', created: '2026-03-01 10:00:00+00', modified: null },
      { id: 11, user: 1, task: 2, text: latin1Texts.cafe, bytes: 'server', created: '2026-03-02 11:30:59.9+00', modified: '2026-03-03 08:00:00+00' },
      { id: 12, user: 2, task: 1, text: latin1Texts.plain, bytes: 'server', created: '2026-03-04 12:00:00+00', modified: null },
    ],
    expect: { zoe: {}, francois: {} },
  },
  {
    name: 'sqlascii',
    encoding: 'SQL_ASCII',
    description: 'A SQL_ASCII database holding mixed encodings: UTF-8, LATIN1 and WIN1252 bytes side by side, as the server stored what each client sent.',
    users: [
      { id: 1, username: 'ascii', first: 'Ann', last: 'Smith', bytes: 'utf8', ...secretsOf(11) },
      { id: 2, username: 'utf8', first: 'Zoë', last: 'Müller', bytes: 'utf8', ...secretsOf(12) },
      { id: 3, username: 'latin', first: 'Zoë', last: 'Núñez', bytes: 'latin1', ...secretsOf(13) },
      { id: 4, username: 'windows', first: 'Wendy', last: 'Ng', bytes: 'utf8', ...secretsOf(14) },
    ],
    tasks: [
      { id: 1, phase: 0, name: 'GET', sort: 10, enabled: true, bytes: 'utf8' },
      { id: 2, phase: 1, name: 'REPORT', sort: 10, enabled: true, bytes: 'utf8' },
      { id: 3, phase: 2, name: 'CAFÉ', sort: 10, enabled: true, bytes: 'latin1' },
    ],
    texts: [
      { id: 20, user: 1, task: 1, text: latin1Texts.plain, bytes: 'utf8', created: '2026-03-01 09:00:00+00', modified: null },
      { id: 21, user: 2, task: 1, text: `naïve café — “quotes” 😀 𝔘 ${CRLF}\\.${CRLF}tab\there`, bytes: 'utf8', created: '2026-03-01 09:01:00+00', modified: null },
      { id: 22, user: 2, task: 2, text: 'Ünïcödé again: Ærø', bytes: 'utf8', created: '2026-03-01 09:02:00+00', modified: '2026-03-05 17:45:00+00' },
      { id: 23, user: 3, task: 1, text: latin1Texts.cafe, bytes: 'latin1', created: '2026-03-02 10:00:00+00', modified: null },
      { id: 24, user: 3, task: 2, text: 'Only ASCII in this one.', bytes: 'latin1', created: '2026-03-02 10:01:00+00', modified: null },
      { id: 25, user: 3, task: 3, text: 'Säure', bytes: 'latin1', created: '2026-03-02 10:02:00+00', modified: null },
      { id: 26, user: 4, task: 2, text: '“Smart quotes” cost €5 – and ‘more’…', bytes: 'win1252', created: '2026-03-03 10:00:00+00', modified: null },
    ],
    expect: {
      ascii: {},
      utf8: {},
      latin: { refusedTasks: ['0-GET', '2-CAF\uFFFD'], withEncoding: ['LATIN1', 'WIN1252'] },
      windows: { refusedTasks: ['1-REPORT'], withEncoding: ['WIN1252'] },
    },
  },
];

/** Win-1252's 0x80-0x9F (the rest is ISO-8859-1). */
const WIN1252_HIGH: Record<string, number> = {
  '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e,
  '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
};

function encode(s: string, bytes: Exclude<Bytes, 'server'>): Buffer {
  if (bytes === 'utf8') return Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (bytes === 'win1252' && ch in WIN1252_HIGH) out.push(WIN1252_HIGH[ch]!);
    else if (cp <= 0xff && !(bytes === 'win1252' && cp >= 0x80 && cp <= 0x9f)) out.push(cp);
    else throw new Error(`${JSON.stringify(ch)} has no ${bytes} byte`);
  }
  return Buffer.from(out);
}

/** What a text's bytes read as in another encoding (for the --backup-encoding expectations). */
function decode(buf: Buffer, as: string): string {
  if (as === 'LATIN1') return buf.toString('latin1');
  if (as === 'WIN1252') {
    const back = Object.fromEntries(Object.entries(WIN1252_HIGH).map(([c, b]) => [b, c]));
    return [...buf].map((b) => back[b] ?? String.fromCharCode(b)).join('');
  }
  throw new Error(as);
}

/**
 * A SQL literal for a value: server-converted text as an ordinary literal (sent as UTF-8);
 * raw bytes for SQL_ASCII as E'\xNN' escapes, which SQL_ASCII stores as they are.
 */
function lit(v: string, bytes: Bytes): string {
  if (bytes === 'server' || bytes === 'utf8') return `'${v.replace(/'/g, "''")}'`;
  return `E'${[...encode(v, bytes)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;
}

async function build(cluster: Cluster, m: DbModel): Promise<void> {
  const admin = await cluster.connect('postgres');
  try {
    await admin.query(`DROP DATABASE IF EXISTS enc_${m.name}`);
    await admin.query(`CREATE DATABASE enc_${m.name} ENCODING '${m.encoding}' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  const c = await cluster.connect(`enc_${m.name}`);
  try {
    // The race server's tables (race-server.md), with the columns that matter plus secrets.
    await c.query(`
      CREATE TABLE public.users (id integer PRIMARY KEY, username varchar(80) NOT NULL UNIQUE, ext_username varchar(80), first_name varchar(80), last_name varchar(80),
        email varchar(80), password bytea, github_access_token varchar(255), is_student boolean, is_active boolean, created_at timestamp with time zone);
      CREATE TABLE public.tasks (id integer PRIMARY KEY, phase integer NOT NULL, name varchar(16) NOT NULL, title varchar(80), is_enabled boolean NOT NULL,
        sort_position integer NOT NULL, problem_text text);
      CREATE TABLE public.tasktexts (id integer PRIMARY KEY, user_id integer REFERENCES public.users(id), task_id integer REFERENCES public.tasks(id),
        text text NOT NULL, created_at timestamp with time zone, modified_at timestamp with time zone);
      CREATE TABLE public.settings (id varchar(64) PRIMARY KEY, value varchar(255));
      CREATE TABLE public.alembic_version (version_num varchar(32) NOT NULL);
      INSERT INTO public.alembic_version VALUES ('4e6d71ff8faa');
      INSERT INTO public.settings VALUES ('PROJECT_CODE', 'ENC'), ('SECRET_KEY', 'enc-fixture-secret-key-0001');
    `);
    for (const u of m.users) {
      const b = u.bytes;
      await c.query(
        `INSERT INTO public.users VALUES (${u.id}, ${lit(u.username, b)}, NULL, ${lit(u.first, b)}, ${lit(u.last, b)}, '${u.email}', '${u.password}'::bytea, '${u.token}', true, true, '2025-09-01 09:00:00+00')`,
      );
    }
    for (const t of m.tasks) {
      await c.query(`INSERT INTO public.tasks VALUES (${t.id}, ${t.phase}, ${lit(t.name, t.bytes)}, 'Task ${t.id}', ${t.enabled}, ${t.sort}, 'Long problem text')`);
    }
    for (const x of m.texts) {
      await c.query(`INSERT INTO public.tasktexts VALUES (${x.id}, ${x.user}, ${x.task}, ${lit(x.text, x.bytes)}, '${x.created}', ${x.modified ? `'${x.modified}'` : 'NULL'})`);
    }
  } finally {
    await c.end();
  }
}

/** The upload JSON for one user (race-server.md), from the model; `as` reads raw bytes in that encoding. */
function expected(m: DbModel, username: string, as?: string): string {
  const u = m.users.find((x) => x.username === username)!;
  const show = (v: string, bytes: Bytes) => (as && bytes !== 'server' && bytes !== 'utf8' ? decode(encode(v, bytes), as) : v);
  const rows = m.texts
    .filter((x) => x.user === u.id)
    .map((x) => ({ x, t: m.tasks.find((t) => t.id === x.task)! }))
    .sort((a, b) => a.t.phase - b.t.phase || a.t.sort - b.t.sort || a.x.id - b.x.id)
    .map(({ x, t }) => ({
      task_name: `${t.phase}-${show(t.name, t.bytes).toUpperCase()}`,
      username: show(u.username, u.bytes),
      created_at: x.created.slice(0, 16),
      modified_at: x.modified?.slice(0, 16) ?? null,
      is_enabled: t.enabled,
      text: show(x.text, x.bytes),
    }));
  return JSON.stringify(rows, null, 2) + '\n';
}

async function main(): Promise<void> {
  const staging = await fs.mkdtemp(path.join(ROOT, 'fixtures', '.encodings-staging-'));
  let cluster: Cluster | undefined;
  const stop = () => void cluster?.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    cluster = await Cluster.start();
    const pgDump = parseCommand(PG_DUMP_15);
    const manifest = { generatedBy: 'scripts/make-encoding-fixtures.ts', pgDump: pgDumpVersion(pgDump), databases: [] as unknown[] };
    for (const m of models) {
      await build(cluster, m);
      const dir = path.join(staging, m.name);
      await fs.mkdir(path.join(dir, 'expected'), { recursive: true });
      const plan: DumpPlan = { cluster, dbName: `enc_${m.name}`, outDir: dir, restrictKey: `encodings${m.name}fixture` };
      await plainDump(plan, 'plain.sql', []);
      await plainDump(plan, 'inserts.sql', ['--inserts']);
      const custom = path.join(dir, 'custom.dump');
      await runPgDump(pgDump, [...cluster.connArgs(), '-Fc', '-f', custom, plan.dbName]);
      await keepUnchangedArchive(custom, path.join(OUT, m.name, 'custom.dump'));
      const students = [];
      for (const u of m.users) {
        const e = m.expect[u.username] ?? {};
        if (!e.refusedTasks) await fs.writeFile(path.join(dir, 'expected', `${u.username}.json`), expected(m, u.username));
        for (const enc of e.withEncoding ?? []) await fs.writeFile(path.join(dir, 'expected', `${u.username}.${enc}.json`), expected(m, u.username, enc));
        students.push({ username: u.username, bytes: u.bytes, refusedTasks: e.refusedTasks ?? null, withEncoding: e.withEncoding ?? [] });
      }
      manifest.databases.push({
        name: m.name,
        encoding: m.encoding,
        description: m.description,
        dumps: ['plain.sql', 'inserts.sql', 'custom.dump'],
        students,
        secrets: [...m.users.flatMap((u) => [u.password, u.token, u.email]), 'enc-fixture-secret-key-0001'],
      });
    }
    await publishStaging(staging, OUT, manifest, 'make-encoding-fixtures', ROOT);
  } finally {
    await cluster?.stop();
    await fs.rm(staging, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`make-encoding-fixtures: error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
