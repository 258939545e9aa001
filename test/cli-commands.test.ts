/**
 * The commands as a user runs them: the README's first command, finding the
 * student, --tasks, users and inspect (text and --json), the engines, and
 * the progress bar on a terminal.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../src/engine/index.js';
import { hasServer } from '../src/engine/index.js';
import { postgresBinDirs } from '../src/pg-install.js';
import { DEMO, FIXTURES, expectCleanError, leftovers, makeTmp, removeTmp, ROOT, runCli } from './helpers.js';
import { Scope } from '../src/scope.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const expected = (db: string, user: string) => readFileSync(join(FIXTURES, 'generated', db, 'expected', `${user}.json`), 'utf8');
let tmp: string;
beforeAll(() => {
  tmp = makeTmp('cmd-tmp');
});
afterAll(() => removeTmp(tmp));

describe('the README', () => {
  it('its first command prints the demo student\'s JSON', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const first = /```sh\n(.+)\nnpm test\n```/.exec(readme)![1]!;
    expect(first).toBe('npm install && npx recover-texts export fixtures/demo/buggy_race_bk_20260315.sql.gz --user alice');
    // The install half is what CI and every test run have just done; run the rest as written.
    const command = first.replace(/^npm install && /, '');
    const out = execFileSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'ignore'] });
    expect(out).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
  });
});

describe('export', () => {
  it('finds a student by exact name, ignoring case, and by ext_username', async () => {
    for (const name of ['Carol.Jones', 'carol.jones', 'u2345678']) {
      const r = await runCli(['export', join(CURRENT, 'plain.sql.gz'), '-u', name], { tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected('current', 'Carol.Jones'));
    }
  });

  it('--tasks keeps only those tasks, and names unknown ones', async () => {
    const r = await runCli(['export', join(CURRENT, 'plain.sql'), '-u', 'bob', '--tasks', '1-template,2-EDIT'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const all = JSON.parse(expected('current', 'bob')) as { task_name: string }[];
    expect(JSON.parse(r.stdout)).toEqual(all.filter((t) => ['1-TEMPLATE', '2-EDIT'].includes(t.task_name)));
    const bad = await runCli(['export', join(CURRENT, 'plain.sql'), '-u', 'bob', '--tasks', '9-NOPE'], { tmp });
    expect(bad.code).toBe(2);
    expect(expectCleanError(bad).message).toMatch(/no task 9-NOPE/);
  });

  it('a student with no texts gets [] and a note', async () => {
    const r = await runCli(['export', join(CURRENT, 'plain.sql'), '-u', 'farah'], { tmp });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(r.stderr).toMatch(/farah has no texts/);
  });

  it('writes files with an index naming the backup, its date and the newest timestamp', async () => {
    const out = join(tmp, 'bob-files');
    const r = await runCli(['export', DEMO, '-u', 'alice', '--format', 'files', '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const index = readFileSync(join(out, 'INDEX.md'), 'utf8');
    expect(index).toContain('Backup date: 2026-03-15 (file name)');
    expect(index).toContain('Newest text timestamp: 2026-03-15 21:40 (UTC)');
    expect(statSync(out).mode & 0o777).toBe(0o700);
    removeTmp(out);
  });
});

describe('users and inspect', () => {
  it('users lists who has texts, as a table and as --json', async () => {
    const t = await runCli(['users', join(CURRENT, 'plain.sql')], { tmp });
    expect(t.code).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^USERNAME\s+NAME\s+EXT_USERNAME\s+TEXTS\s+NEWEST \(UTC\)$/);
    const j = await runCli(['users', join(CURRENT, 'plain.sql'), '--json'], { tmp });
    const users = JSON.parse(j.stdout) as { username: string; texts: number; newest: string }[];
    const manifest = JSON.parse(readFileSync(join(FIXTURES, 'generated', 'manifest.json'), 'utf8'));
    const current = manifest.databases.find((d: { name: string }) => d.name === 'current');
    const withTexts = current.students.filter((s: { textCount: number }) => s.textCount > 0);
    expect(users.map((u) => [u.username, u.texts, u.newest]).sort()).toEqual(withTexts.map((s: { username: string; textCount: number; newest: string }) => [s.username, s.textCount, s.newest]).sort());
    for (const u of users) expect(t.stdout).toContain(u.username);
  });

  it('inspect --json on a plain dump: versions, date, counts, newest text', async () => {
    const r = await runCli(['inspect', join(FIXTURES, 'generated', 'legacy', 'plain.sql.gz'), '--json'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ format: 'gzip', textsTable: 'notes', timestampType: 'timestamp (UTC wall clock)', loaded: true, archive: null });
    expect(info.pgDumpVersion).toMatch(/^15\./);
    expect(info.texts).toBeGreaterThan(0);
    expect(info.newestText).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });
});

describe('engines', () => {
  const hasSystem = postgresBinDirs().some(hasServer);
  it.skipIf(!hasSystem)('system: PostgreSQL installed on this machine (skipped when none is: no initdb/postgres found)', async () => {
    const r = await runCli(['export', DEMO, '-u', 'alice', '--engine', 'system'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
    expect(leftovers(tmp)).toEqual([]);
  });

  describe('url: a scratch database on a server the admin names', () => {
    let server: Engine;
    let url: string;
    const admin = () => new pg.Client(server.clientConfig('postgres'));
    beforeAll(async () => {
      // Like any admin's server, with initdb's template0 (the cached template has none): no cache.
      server = await startEngine({ kind: 'embedded', cache: false, log: () => {} }, new Scope());
      const c = server.clientConfig('postgres');
      url = `postgresql://${c.user}:${encodeURIComponent(String(c.password))}@localhost/postgres?host=${encodeURIComponent(String(c.host))}`;
      const a = admin();
      await a.connect();
      await a.query('CREATE DATABASE precious');
      await a.end();
    });
    afterAll(() => server?.stop());

    it('exports through it, drops its scratch database, and touches nothing else', async () => {
      const before = await listDatabases();
      const r = await runCli(['export', DEMO, '-u', 'alice'], { tmp, env: { RECOVER_TEXTS_DATABASE_URL: url } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
      expect(await listDatabases()).toEqual(before);
      expect(before).toContain('precious');
      expect(leftovers(tmp)).toEqual([]);
    });

    async function listDatabases(): Promise<string[]> {
      const a = admin();
      await a.connect();
      const { rows } = await a.query('SELECT datname FROM pg_database ORDER BY 1');
      await a.end();
      return rows.map((r) => r.datname);
    }
  });
});

describe('progress', () => {
  const hasScript = existsSync('/usr/bin/script');
  it.skipIf(!hasScript)('draws a bar on a terminal, and none when stderr is not one (skipped without util-linux script)', async () => {
    // script(1) gives the run a pseudo-terminal.
    const cmd = `${process.execPath} ${join(ROOT, 'dist', 'cli', 'main.js')} export ${join(FIXTURES, 'generated', 'bigtext', 'plain.sql.gz')} -u mega > /dev/null`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/loading backup \[#*\.*\]\s+\d+% [\d.]+\/[\d.]+ MB/);
    const plain = await runCli(['export', join(FIXTURES, 'generated', 'bigtext', 'plain.sql.gz'), '-u', 'mega'], { tmp });
    expect(plain.stderr).not.toMatch(/loading backup \[/);
  });
});
