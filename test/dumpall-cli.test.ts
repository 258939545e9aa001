/**
 * pg_dumpall files through the CLI, on the real ones in fixtures/dumpall/
 * (pg_dumpall 15 of a cluster where the race server's buggy_race shares the
 * server with another application, todo-app, that has its own users and
 * tasks): each database is read apart, the race server's is used and said,
 * --database chooses when several are race server databases, in every command.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryJson } from '../src/history/index.js';
import { expectCleanError, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const DIR = join(FIXTURES, 'dumpall');
const NIGHT1 = join(DIR, 'nightly', 'buggy_all_20260314.sql.gz');
const NIGHT2 = join(DIR, 'nightly', 'buggy_all_20260315.sql.gz');
const TWO = join(DIR, 'two-races.sql.gz');
const CREATED = join(DIR, 'created.sql.gz');
const expected = (where: string, user: string) => readFileSync(join(DIR, 'expected', where, `${user}.json`), 'utf8');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  race: Record<string, { username: string; textCount: number }[]>;
  otherApp: { users: string[] };
  secrets: string[];
};
const NOTE = 'pg_dumpall file: using database buggy_race (others: template1, postgres, todo-app)';

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('dumpall');
});
afterAll(() => removeTmp(tmp));

describe('a pg_dumpall file with one race server database', () => {
  it("inspect counts the race server database's users only, and says which database it read", async () => {
    const r = await runCli(['inspect', NIGHT2, '--json'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.users).toBe(manifest.race.night2!.length);
    expect(info.texts).toBe(manifest.race.night2!.reduce((n, u) => n + u.textCount, 0));
    expect(info.database).toBe('buggy_race');
    expect(info.databases).toEqual(['template1', 'buggy_race', 'postgres', 'todo-app']);
    expect(r.stderr).toContain(NOTE);
  });

  it('export --user ada gives exactly her texts from buggy_race, and says which database', async () => {
    const r = await runCli(['export', NIGHT2, '--user', 'ada'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected('20260315', 'ada'));
    expect(r.stderr).toContain(NOTE);
    for (const s of manifest.secrets) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it("a user only in the other application's database is not found (not matched by id to someone's texts)", async () => {
    expect(manifest.otherApp.users).toContain('otto');
    const r = await runCli(['export', NIGHT2, '--user', 'otto'], { tmp });
    expect(r.code).toBe(12);
    expect(expectCleanError(r).message).toMatch(/no user "otto" in this backup/);
    expect(r.stdout).toBe('');
  });

  it('users lists the race server database\'s users with texts only', async () => {
    const r = await runCli(['users', NIGHT2, '--json'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const withTexts = manifest.race.night2!.filter((u) => u.textCount > 0).map((u) => u.username).sort();
    expect((JSON.parse(r.stdout) as { username: string }[]).map((u) => u.username).sort()).toEqual(withTexts);
  });

  it('export-all writes the race server database\'s students only', async () => {
    const out = join(makeTmp('dumpall-all'), 'all');
    const r = await runCli(['export-all', NIGHT2, '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    for (const u of manifest.race.night2!.filter((x) => x.textCount > 0)) {
      expect(readFileSync(join(out, `${u.username}.json`), 'utf8')).toBe(expected('20260315', u.username));
    }
    removeTmp(join(out, '..'));
  });

  it('--database todo-app reads that database, which has no texts table', async () => {
    const r = await runCli(['export', NIGHT2, '--user', 'ada', '--database', 'todo-app'], { tmp });
    expect(r.code).toBe(11);
    expect(expectCleanError(r).message).toBe(`recover-texts: database "todo-app" of ${NIGHT2} has no tasktexts (or older notes) table`);
  });

  it('cut after its race server database, it is truncated (its first database\'s "dump complete" is not the end)', async () => {
    const work = makeTmp('dumpall-cut');
    const text = gunzipSync(readFileSync(NIGHT2)).toString('latin1');
    const cut = join(work, 'buggy_all_cut.sql.gz');
    writeFileSync(cut, gzipSync(Buffer.from(text.slice(0, text.indexOf('\\connect postgres')), 'latin1')));
    const r = await runCli(['export', cut, '--user', 'ada'], { tmp });
    expect(r.code).toBe(10);
    expect(expectCleanError(r).message).toBe(`recover-texts: ${cut} ends before pg_dumpall's "cluster dump complete" line, so it is truncated`);
    expect(r.stdout).toBe('');
    removeTmp(work);
  });

  it('a plain pg_dump --create file (one database, one \\connect) still works, without a note', async () => {
    const r = await runCli(['export', CREATED, '--user', 'ada'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected('20260315', 'ada'));
    expect(r.stderr).not.toContain('using database');
  });
});

describe('a pg_dumpall file with two race server databases', () => {
  it('is a one-line error listing them, with the way to choose', async () => {
    const r = await runCli(['export', TWO, '--user', 'ada'], { tmp });
    expect(r.code).toBe(2);
    const { message, hint } = expectCleanError(r);
    expect(message).toBe(`recover-texts: ${TWO} is a pg_dumpall file with 2 race server databases: buggy_race, buggy_race_2025`);
    expect(hint).toBe('  hint: choose one with --database, e.g. --database buggy_race');
    expect(r.stdout).toBe('');
  });

  it('inspect shows the header and why it needs --database, and succeeds', async () => {
    const r = await runCli(['inspect', TWO, '--json'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ loaded: false, users: null, loadError: { code: 'DATABASE_AMBIGUOUS' } });
    expect(r.stderr).toContain('2 race server databases: buggy_race, buggy_race_2025');
  });

  it('--database picks one, in export and inspect', async () => {
    for (const [db, where] of [['buggy_race', '20260315'], ['buggy_race_2025', 'buggy_race_2025']] as const) {
      const r = await runCli(['export', TWO, '--user', 'ada', '--database', db], { tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected(where, 'ada'));
      expect(r.stderr).toContain(`using database ${db} (others: `);
    }
    const r = await runCli(['inspect', TWO, '--json', '--database', 'buggy_race_2025'], { tmp });
    expect(JSON.parse(r.stdout)).toMatchObject({ database: 'buggy_race_2025', users: manifest.race.buggy_race_2025!.length });
  });

  it('a typo in --database is an error with a did-you-mean and the databases there are', async () => {
    const r = await runCli(['users', TWO, '--database', 'buggy_rce'], { tmp });
    expect(r.code).toBe(2);
    const { message, hint } = expectCleanError(r);
    expect(message).toBe(`recover-texts: --database buggy_rce: ${TWO} has no database buggy_rce; did you mean buggy_race?`);
    expect(hint).toBe("  hint: its databases: template1, buggy_race, buggy_race_2025, postgres, todo-app; the race server's tables are in buggy_race, buggy_race_2025");
  });
});

describe('many pg_dumpall files', () => {
  it('history over a folder of them follows the student in buggy_race only', async () => {
    const r = await runCli(['history', '--user', 'ada', '--json', join(DIR, 'nightly')], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HistoryJson;
    expect(h.backups.map((b) => b.date)).toEqual(['2026-03-14', '2026-03-15']);
    const states = Object.fromEntries(h.tasks.map((t) => [t.versions.at(-1)!.taskName, t.versions.map((v) => v.state)]));
    expect(states).toEqual({ '0-CHANGE': ['new', 'unchanged'], '1-TEMPLATE': ['new', 'changed'], '3-REPORT': ['new', 'unchanged'] });
    // The texts are buggy_race's: each night's export gives each task's text.
    for (const [k, night] of ['20260314', '20260315'].entries()) {
      const texts = JSON.parse(expected(night, 'ada')) as { task_name: string; text: string }[];
      for (const t of texts) expect(h.tasks.find((x) => x.versions[k]!.taskName === t.task_name)!.versions[k]!.createdAt).not.toBeNull();
      expect(h.tasks.filter((x) => x.versions[k]!.state !== 'none')).toHaveLength(texts.length);
    }
    // One note for the two files, which hold the same databases.
    expect(r.stderr.split(NOTE).length - 1).toBe(1);
  });

  it('history of grace finds the text she lost between the two nights', async () => {
    const r = await runCli(['history', '--user', 'grace', '--json', NIGHT1, NIGHT2], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HistoryJson;
    const states = Object.fromEntries(h.tasks.map((t) => [t.versions[0]!.taskName, t.versions.map((v) => v.state)]));
    expect(states).toEqual({ '0-CHANGE': ['new', 'unchanged'], '1-ADD': ['new', 'gone'] });
    expect(h.tasks.find((t) => t.versions[0]!.taskName === '1-ADD')).toMatchObject({ status: 'lost', restoreFrom: '2026-03-14' });
  });

  it('merge --current takes --database too', async () => {
    const work = makeTmp('dumpall-merge');
    const current = join(work, 'two-races.sql.gz');
    copyFileSync(TWO, current);
    mkdirSync(join(work, 'old'));
    copyFileSync(NIGHT1, join(work, 'old', 'buggy_all_20260314.sql.gz'));
    const args = ['merge', '--user', 'grace', '--auto', '--current', current, join(work, 'old')];
    const ambiguous = await runCli(args, { tmp });
    expect(ambiguous.code).toBe(2);
    expect(expectCleanError(ambiguous).message).toContain('2 race server databases');
    const r = await runCli([...args, '--database', 'buggy_race'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const upload = JSON.parse(r.stdout) as { task_name: string }[];
    expect(upload.map((t) => t.task_name).sort()).toEqual(['0-CHANGE', '1-ADD']);
    removeTmp(work);
  });
});
