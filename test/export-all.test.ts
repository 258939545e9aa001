/**
 * `recover-texts export-all`: after a total loss, every student's upload JSON
 * (or a folder of files each) from one backup in one pass, names as the
 * server stores them, with an index and a summary; written atomically.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FIXTURES, expectCleanError, leftovers, makeTmp, processesMentioning, removeTmp, runCli } from './helpers.js';
import { writeRaceDump } from './race-dump.js';
import { nightPaths, story, storyFile } from './story-helpers.js';

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('all-tmp');
  work = makeTmp('all-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

interface Element {
  task_name: string;
  text: string;
  username: string;
}

describe('export-all', () => {
  it("writes every user with texts: the upload JSON each, with task names as stored, an index, and a summary", async () => {
    const out = join(work, 'all');
    const r = await runCli(['export-all', nightPaths.at(-1)!, '--out', out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const night = story.nights.at(-1)!.date;
    const stored = new Map(story.tasks.at(-1)!.tasks.map((t) => [t.stored.toUpperCase(), t.stored]));
    const withTexts = readdirSync(join(FIXTURES, 'story', 'expected', night)).filter((f) => (JSON.parse(storyFile(`expected/${night}/${f}`)) as unknown[]).length);
    expect(readdirSync(out).sort()).toEqual([...withTexts, 'index.json'].sort());
    for (const f of withTexts) {
      const want = (JSON.parse(storyFile(`expected/${night}/${f}`)) as Element[]).map((e) => ({ ...e, task_name: stored.get(e.task_name)! }));
      expect(JSON.parse(readFileSync(join(out, f), 'utf8')), f).toEqual(want);
    }
    expect(JSON.parse(readFileSync(join(out, 'alice.json'), 'utf8')).map((e: Element) => e.task_name)).toContain('2-Edit');
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    expect(index.backupDate).toBe('2026-03-13');
    expect(index.users.map((u: { username: string; file: string }) => [u.username, u.file])).toEqual([
      ['alice', 'alice.json'],
      ['benjamin', 'benjamin.json'],
      ['chloe', 'chloe.json'],
    ]);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(r.stderr).toMatch(/^alice\s+6\s+2026-03-13 09:27\s+alice\.json$/m);
    expect(r.stderr).toMatch(/3 users, 11 texts from the backup of 2026-03-13/);
    expect(leftovers(tmp)).toEqual([]);
  });

  it('--format files: a folder per student, one file per text, exactly as stored', async () => {
    const out = join(work, 'files');
    const r = await runCli(['export-all', DEMO, '--out', out, '--format', 'files'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const students = ['alice', 'ben', 'chloe', 'dev'];
    expect(readdirSync(out).sort()).toEqual([...students, 'index.json']);
    for (const s of students) {
      const want = JSON.parse(readFileSync(join(FIXTURES, 'demo', 'expected', `${s}.json`), 'utf8')) as Element[];
      const index = JSON.parse(readFileSync(join(out, s, 'index.json'), 'utf8')) as { texts: { file: string }[] };
      expect(index.texts.map((t) => readFileSync(join(out, s, t.file), 'utf8'))).toEqual(want.map((w) => w.text));
    }
  });

  it('refuses an existing --out before loading anything, and leaves it as it was', async () => {
    const out = join(work, 'existing');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'keep');
    const r = await runCli(['export-all', DEMO, '--out', out], { tmp });
    expect(r.code).toBe(7);
    // Not a folder it wrote: not even --force would replace it.
    expect(expectCleanError(r).message).toMatch(/cannot be replaced: it is not a folder of every student's texts that recover-texts wrote/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    expect(leftovers(tmp)).toEqual([]);
    expect(processesMentioning(tmp)).toEqual([]);
  });

  it("keeps every student whose name is the index's (index, Index, index.json, INDEX.JSON): the index is never overwritten, nor one student by another", async () => {
    const names = ['index', 'Index', 'index.json', 'INDEX.JSON', 'alice'];
    const dump = writeRaceDump(
      join(work, 'index-names.sql'),
      names.map((username) => ({ username })),
      [{ phase: 0, name: 'GET' }],
      names.map((_, k) => ({ user: k, task: 0, text: `text of student ${k}` })),
    );
    for (const format of ['json', 'files'] as const) {
      const out = join(work, `index-names-${format}`);
      const r = await runCli(['export-all', dump, '--out', out, '--format', format], { tmp });
      expect(r.code, r.stderr).toBe(0);
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { format: string; users: { username: string; file?: string; folder?: string }[] };
      expect(index.format).toBe(format);
      const entries = index.users.map((u) => ({ username: u.username, name: (format === 'json' ? u.file : u.folder)! }));
      expect(entries.map((e) => e.username).sort()).toEqual([...names].sort());
      // No name is the index's or another's, in any case.
      const folded = entries.map((e) => e.name.toLowerCase());
      expect(new Set(folded).size).toBe(names.length);
      expect(folded).not.toContain('index.json');
      expect(readdirSync(out).sort()).toEqual([...entries.map((e) => e.name), 'index.json'].sort());
      for (const e of entries) {
        const k = names.indexOf(e.username);
        if (format === 'json') {
          expect(JSON.parse(readFileSync(join(out, e.name), 'utf8')), e.name).toEqual([expect.objectContaining({ username: e.username, text: `text of student ${k}` })]);
        } else {
          expect(readFileSync(join(out, e.name, '0-GET.md'), 'utf8'), e.name).toBe(`text of student ${k}`);
          expect(JSON.parse(readFileSync(join(out, e.name, 'index.json'), 'utf8')).username).toBe(e.username);
        }
      }
    }
    expect(leftovers(tmp)).toEqual([]);
  });
});
