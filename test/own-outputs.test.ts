/**
 * In process: what recover-texts knows of its own outputs (detect/own.ts) — which folder it wrote,
 * and what such a folder holds that it did not write (what --force must never delete) — and which
 * backups of a selection share a date so that their order is unknown (detect/folder.ts ties).
 */
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignEntries, OWN_FOLDERS, ownOutputKind, selectBackups, tieNote } from '../src/detect/index.js';
import { makeTmp, removeTmp } from './helpers.js';
import { writeRaceDump } from './race-dump.js';

let work: string;
beforeAll(() => {
  work = makeTmp('own-outputs');
});
afterAll(() => removeTmp(work));

/** A folder of `files` (name: content; a content of null: a folder) under work. */
function folder(name: string, files: Record<string, string | null>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(dir, f), { recursive: true });
    else writeFileSync(join(dir, f), content);
  }
  return dir;
}

const README = '2 uploads, one per student who lost texts, made by recover-texts scan --restore.\n\nann-upload.json: for ann\n';
const UPLOAD = '[\n  {\n    "task_name": "1-REPORT",\n    "text": "x"\n  }\n]\n';
const textsIndex = (files: string[]) => JSON.stringify({ backup: 'bk.sql', backupFormat: 'plain', texts: files.map((file) => ({ file })) }, null, 2);
const everyoneIndex = (users: object[]) => JSON.stringify({ backup: 'bk.sql', backupFormat: 'plain', users }, null, 2);

describe('the folders recover-texts writes', () => {
  it('are known by their index or README, and hold nothing else when as written', async () => {
    const restore = folder('restore', { 'README.txt': README, 'ann-upload.json': UPLOAD, 'bob-upload.json': '[]\n' });
    const texts = folder('texts', { 'index.json': textsIndex(['1-REPORT.md']), 'INDEX.md': '# texts\n', '1-REPORT.md': 'text' });
    const everyone = folder('everyone', { 'index.json': everyoneIndex([{ file: 'ann.json' }, { folder: 'bob' }]), 'ann.json': UPLOAD, bob: null });
    folder('everyone/bob', { 'index.json': textsIndex(['0-GET.md']), 'INDEX.md': '# bob\n', '0-GET.md': 'text' });
    expect(await ownOutputKind(restore)).toBe(OWN_FOLDERS.restore);
    expect(await ownOutputKind(texts)).toBe(OWN_FOLDERS.texts);
    expect(await ownOutputKind(everyone)).toBe(OWN_FOLDERS.everyone);
    expect(await foreignEntries(restore, OWN_FOLDERS.restore)).toEqual([]);
    expect(await foreignEntries(texts, OWN_FOLDERS.texts)).toEqual([]);
    expect(await foreignEntries(everyone, OWN_FOLDERS.everyone)).toEqual([]);
    // Another kind than the one asked for: not that folder.
    expect(await foreignEntries(texts, OWN_FOLDERS.everyone)).toBeNull();
    expect(await foreignEntries(restore, OWN_FOLDERS.texts)).toBeNull();
    // An empty folder holds nothing of anyone's.
    expect(await foreignEntries(folder('empty', {}), OWN_FOLDERS.restore)).toEqual([]);
  });

  it("name what they hold that recover-texts did not write: a backup put there, a file the index does not list, a link, a student's folder with more in it", async () => {
    const restore = folder('restore-plus', { 'README.txt': README, 'ann-upload.json': UPLOAD, 'buggy_race_now.sql.gz': 'x', 'notes.json': '{"mine": true}', sub: null });
    expect((await foreignEntries(restore, OWN_FOLDERS.restore))!.sort()).toEqual(['buggy_race_now.sql.gz', 'notes.json', 'sub']);
    const texts = folder('texts-plus', { 'index.json': textsIndex(['1-REPORT.md']), 'INDEX.md': '# texts\n', 'thesis.tex': 'mine' });
    symlinkSync(join(work, 'elsewhere.md'), join(texts, '1-REPORT.md'));
    expect((await foreignEntries(texts, OWN_FOLDERS.texts))!.sort()).toEqual(['1-REPORT.md', 'thesis.tex']);
    const everyone = folder('everyone-plus', { 'index.json': everyoneIndex([{ file: 'ann.json' }, { folder: 'bob' }, { folder: 'cat' }]), 'ann.json': UPLOAD, bob: null, cat: null });
    folder('everyone-plus/bob', { 'index.json': textsIndex(['0-GET.md']), 'INDEX.md': '# bob\n', '0-GET.md': 'text', 'extra.dump': 'PGDMP' });
    // A student's folder that is no folder of texts at all goes whole into the list.
    folder('everyone-plus/cat', { 'mine.txt': 'mine' });
    expect((await foreignEntries(everyone, OWN_FOLDERS.everyone))!.sort()).toEqual(['bob/extra.dump', 'cat']);
    // An index that cannot be read lists nothing: everything but itself is foreign.
    const broken = folder('texts-broken', { 'index.json': '{"backup": "bk.sql", "backupFormat": "plain", "texts": [', 'INDEX.md': '# x\n', 'a.md': 'x' });
    expect(await foreignEntries(broken, OWN_FOLDERS.texts)).toEqual(['a.md']);
  });
});

describe('backups that share a date', () => {
  /** A folder of race dumps named `names`, each dated by its modification time `at` (a Date each, or one for all). */
  function dumps(name: string, names: string[], at: (k: number) => Date): string {
    const dir = join(work, name);
    mkdirSync(dir);
    names.forEach((n, k) => {
      const path = writeRaceDump(join(dir, n), [{ id: 1, username: 'ann' }], [{ id: 1, phase: 1, name: 'FIRST' }], [{ user: 0, task: 0, text: `night ${k}` }]);
      utimesSync(path, at(k), at(k));
    });
    return dir;
  }

  it('are a tie when dated by one clock to the same minute, and said with what to do', async () => {
    const same = new Date('2026-05-01T10:00:30Z');
    const dir = dumps('copied', ['mon.sql', 'tue.sql', 'wed.sql', 'thu.sql'], (k) => (k < 3 ? same : new Date('2026-05-02T10:00:00Z')));
    const s = await selectBackups([dir]);
    expect(s.ties.map((t) => [t.date.value, t.paths.map((p) => p.slice(dir.length + 1))])).toEqual([['2026-05-01 10:00', ['mon.sql', 'tue.sql', 'wed.sql']]]);
    expect(tieNote(s.ties[0]!)).toBe(
      "which came first of mon.sql, tue.sql, wed.sql is unknown: they share the date 2026-05-01 10:00 (the file's modification time, in UTC), so they are taken in the order of their names; copy backups with their times kept (cp -p, rsync -t), or name each with its date (buggy_race_bk_YYYYMMDD...)",
    );
    // The newest before a day: tied only with those of its own date.
    expect((await selectBackups([dir], { before: '2026-05-02' })).ties.map((t) => t.paths.length)).toEqual([3]);
    expect((await selectBackups([dir], { before: '2026-05-03' })).ties).toEqual([]);
  });

  it('are no tie when their names date them to one day (their names order them), nor when their minutes differ', async () => {
    const named = dumps('named', ['bk_2026-05-01_0300.sql', 'bk_2026-05-01_1500.sql'], () => new Date('2026-05-03T00:00:00Z'));
    expect((await selectBackups([named])).ties).toEqual([]);
    const apart = dumps('apart', ['a.sql', 'b.sql'], (k) => new Date(Date.UTC(2026, 4, 1, 10, k)));
    expect((await selectBackups([apart])).ties).toEqual([]);
  });
});
