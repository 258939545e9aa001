/**
 * A folder of backups as the admin keeps it after the first hour: the tool's
 * own outputs written beside the backups, one night in several formats, a
 * folder given to a command that takes one backup, a plain dump dated only by
 * its file's time.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copiesNote, selectBackups } from '../src/detect/index.js';
import { isLater } from '../src/detect/date.js';
import { ownOutputKind } from '../src/detect/own.js';
import { FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';
import { nightPaths, STORY } from './story-helpers.js';

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('folders');
});
afterAll(() => removeTmp(tmp));

/** A fresh folder under tmp holding `files` (copies, by the names given). */
function folderOf(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [to, from] of Object.entries(files)) cpSync(from, join(dir, to), { recursive: true });
  return dir;
}

const storyFolder = (name: string) => folderOf(name, Object.fromEntries(nightPaths.map((p) => [p.slice(STORY.length + 1), p])));
const CURRENT = join(FIXTURES, 'generated', 'current');

describe('where the files go', () => {
  it("history's steps write the upload outside the backups' folder, under a name not taken yet, and the next run over the folder passes the tool's own outputs over quietly", async () => {
    const backups = storyFolder('nights');
    const home = join(tmp, 'home');
    mkdirSync(home);
    const env = { HOME: home };
    // Run from inside the backups' folder, as the admin who followed "cd" does.
    const first = await runCli(['history', '-u', 'alice', '.', '--html', 'alice.html'], { tmp, cwd: backups, env });
    expect(first.code, first.stderr).toBe(0);
    const out = join(home, 'alice-upload.json');
    expect(first.stderr).toContain(`--out ${out}`);
    expect(first.stderr).toContain(`upload ${out} on the race server`);

    // The suggested merge works as printed (run in the backups' folder) and writes to the home folder.
    const merge = /2\. recover-texts (merge .*)/.exec(first.stderr)![1]!.split(' ');
    const m = await runCli(merge, { tmp, cwd: backups, env });
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).length).toBeGreaterThan(0);

    // The admin also keeps copies of the outputs beside the backups.
    copyFileSync(out, join(backups, 'alice-upload.json'));
    const csv = await runCli(['export', '-u', 'alice', '-f', 'csv', '-o', join(backups, 'alice.csv'), nightPaths[2]!], { tmp });
    const files = await runCli(['export', '-u', 'alice', '-f', 'files', '-o', join(backups, 'alice-texts'), nightPaths[2]!], { tmp });
    const all = await runCli(['export-all', '-o', join(backups, 'everyone'), nightPaths[2]!], { tmp });
    const restored = await runCli(['scan', '.', '--restore', 'uploads'], { tmp, cwd: backups, env });
    expect([csv.code, files.code, all.code, restored.code]).toEqual([0, 0, 0, 0]);

    // The next history: the upload name taken, so -2; and not a word about the outputs.
    const second = await runCli(['history', '-u', 'alice', '.'], { tmp, cwd: backups, env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`--out ${join(home, 'alice-upload-2.json')}`);
    expect(second.stderr).not.toMatch(/skipped|not a PostgreSQL backup/);
    // Its one warning is the story's own (a lost text whose task was deleted since): none about the outputs.
    expect(second.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([expect.stringMatching(/^warning: 3-FLAG \(task id 11\): no such task in /)]);

    // A service account's home that does not exist: the upload stays here, among the backups, where the next run passes it over.
    const homeless = await runCli(['history', '-u', 'alice', '.'], { tmp, cwd: backups, env: { HOME: join(tmp, 'no-such-home') } });
    expect(homeless.code, homeless.stderr).toBe(0);
    expect(homeless.stderr).toContain(`--out ${join(backups, 'alice-upload-2.json')}`);

    // With --debug: one line each.
    const debug = await runCli(['history', '-u', 'alice', '.', '--debug'], { tmp, cwd: backups, env });
    const skipped = debug.stderr.split('\n').filter((l) => l.startsWith('skipped '));
    expect(skipped.sort()).toEqual([
      'skipped alice-texts: a folder of texts written by recover-texts',
      'skipped alice-upload.json: an upload JSON written by recover-texts',
      'skipped alice.csv: a CSV of texts written by recover-texts',
      'skipped alice.html: an HTML report written by recover-texts',
      "skipped everyone: a folder of every student's texts written by recover-texts",
      'skipped uploads: a folder of uploads (scan --restore) written by recover-texts',
    ]);

    // The same, asked of detect in this process: each output is known for what it is, and a backup is none of them.
    expect(await ownOutputKind(join(backups, 'alice-upload.json'))).toBe('an upload JSON');
    expect(await ownOutputKind(join(backups, 'alice.csv'))).toBe('a CSV of texts');
    expect(await ownOutputKind(join(backups, 'alice.html'))).toBe('an HTML report');
    expect(await ownOutputKind(nightPaths[0]!)).toBeNull();
    const selection = await selectBackups([backups]);
    expect(selection.backups).toHaveLength(nightPaths.length);
    expect(selection.skipped.filter((k) => k.kind === 'own output').map((k) => k.path.slice(backups.length + 1)).sort()).toEqual(['alice-texts', 'alice-upload.json', 'alice.csv', 'alice.html', 'everyone', 'uploads']);
  });

  it('run from elsewhere, the upload goes where the admin is', async () => {
    const backups = storyFolder('nights-elsewhere');
    const here = join(tmp, 'here');
    mkdirSync(here);
    const r = await runCli(['history', '-u', 'alice', backups], { tmp, cwd: here });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--out ${join(here, 'alice-upload.json')}`);
  });
});

describe('folders and dates', () => {
  it('one night in several formats is one backup: the custom archive is read, the others set aside, said in one line', async () => {
    // custom.dump, tar.tar and directory are one dump (07:32); a plain copy says so with pg_dump's "Started on" line.
    const plain = readFileSync(join(CURRENT, 'plain.sql'), 'utf8').replace('\nSET statement_timeout', '\n-- Started on 2026-11-24 07:32:14 UTC\n\nSET statement_timeout');
    const dir = folderOf('formats', {
      'night.tar': join(CURRENT, 'tar.tar'),
      'night.dump': join(CURRENT, 'custom.dump'),
      'night-dir': join(CURRENT, 'directory'),
      'later.dump': join(CURRENT, 'pg17-custom-gzip.dump'),
    });
    writeFileSync(join(dir, 'night.sql'), plain);
    const r = await runCli(['history', '-u', 'bob', '--json', dir], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as { backups: { path: string; date: string }[] };
    expect(h.backups.map((b) => [b.path, b.date])).toEqual([
      [join(dir, 'night.dump'), '2026-11-24 07:32'],
      [join(dir, 'later.dump'), '2026-11-29 22:05'],
    ]);
    const notes = r.stderr.split('\n').filter((l) => l.startsWith('copies of one backup'));
    expect(notes).toEqual([
      'copies of one backup (dumped 2026-11-24 07:32): read night.dump (a custom archive: only the tables needed are read); set aside night-dir, night.tar, night.sql',
    ]);

    // In this process: selection keeps one of the four, and the note is the one the CLI printed.
    const selection = await selectBackups([dir]);
    expect(selection.backups.map((x) => x.path)).toEqual([join(dir, 'night.dump'), join(dir, 'later.dump')]);
    expect(selection.copies.map(copiesNote)).toEqual(notes);
    expect(isLater(selection.backups[1]!.date, selection.backups[0]!.date)).toBe(true);
    expect(isLater(selection.backups[0]!.date, selection.backups[1]!.date)).toBe(false);
  });

  it('two nights dated only by their file names are never taken for copies', async () => {
    const dir = storyFolder('by-name');
    const r = await runCli(['history', '-u', 'alice', '--json', dir], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { backups: unknown[] }).backups).toHaveLength(nightPaths.length);
    expect(r.stderr).not.toContain('copies of one backup');
  });

  it('inspect takes a folder as users and export do: its newest backup, saying which and what else is there', async () => {
    const dir = storyFolder('inspect');
    const r = await runCli(['inspect', dir], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`using ${join(dir, 'buggy_race_bk_20260313.sql.gz')} (2026-03-13), the newest backup in ${dir}; the folder holds 5 backups from 2026-03-09 on`);
    expect(r.stdout).toMatch(/^backup: +.*buggy_race_bk_20260313\.sql\.gz$/m);
    expect(r.stdout).toMatch(/^users: +\d+/m);
    const all = await runCli(['export-all', '-o', join(tmp, 'inspect-all'), dir], { tmp });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toContain('the newest backup in');
    // users, export, export-all and inspect pick a folder's backup by one rule, and say it in the same words.
    const users = await runCli(['users', dir], { tmp });
    expect(users.code, users.stderr).toBe(0);
    expect(users.stderr).toContain(`using ${join(dir, 'buggy_race_bk_20260313.sql.gz')} (2026-03-13), the newest backup in ${dir}; the folder holds 5 backups from 2026-03-09 on`);
  });

  it('a plain dump dated by its file is shown with its time, and a backup of the same moment beside it is not "newer"', async () => {
    const dir = folderOf('moment', { 'student.sql': join(CURRENT, 'plain.sql'), 'night.dump': join(CURRENT, 'custom.dump') });
    // The plain dump's file was written in the same minute as the archive's dump.
    const when = new Date('2026-11-24T07:32:40Z');
    utimesSync(join(dir, 'student.sql'), when, when);
    const r = await runCli(['export', '-u', 'bob', '-o', join(tmp, 'bob.json'), join(dir, 'student.sql')], { tmp, env: { TZ: 'UTC' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("from the backup of 2026-11-24 07:32 (the file's modification time, in UTC)");
    expect(r.stderr).toContain('whatever bob wrote after 2026-11-24 07:32 UTC is deleted');
    expect(r.stderr).not.toContain('newer backup');
  });
});
