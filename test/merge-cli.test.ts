/**
 * `recover-texts merge` on the story: --auto restores exactly the lost texts
 * and keeps every later edit, against the newest backup and against the live
 * server's JSON; --take picks versions; and every output passes the race
 * server's upload rules, checked here as race-server.md writes them (not with
 * the tool's own checker).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, makeTmp, removeTmp, runCli, expectNothingLeft } from './helpers.js';
import { nightPaths, story, STORY, storyFile } from './story-helpers.js';

interface Element {
  task_name: string;
  username: string;
  created_at: string | null;
  modified_at: string | null;
  is_enabled: boolean;
  text: string;
}

/**
 * race-server.md, "The server's own JSON": the upload deletes the student's
 * texts and inserts one row per element, matching task_name exactly against
 * the stored `<phase>-<name>`; it warns on an unknown task_name or a username
 * other than the student's; created_at must be exactly YYYY-MM-DD HH:MM or null.
 */
function uploadProblems(json: string, tasks: string[], student: string): string[] {
  const problems: string[] = [];
  const data = JSON.parse(json) as unknown;
  if (!Array.isArray(data)) return ['not an array'];
  const names = new Set(tasks);
  const usernames = new Set<string>();
  for (const [k, e] of (data as Record<string, unknown>[]).entries()) {
    const keys = Object.keys(e).sort();
    if (keys.join() !== ['created_at', 'is_enabled', 'modified_at', 'task_name', 'text', 'username'].join()) problems.push(`${k}: keys ${keys}`);
    if (!names.has(e.task_name as string)) problems.push(`${k}: unknown task_name ${String(e.task_name)}`);
    usernames.add(e.username as string);
    if (e.created_at !== null && !/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(String(e.created_at))) problems.push(`${k}: created_at ${String(e.created_at)}`);
    if (typeof e.text !== 'string') problems.push(`${k}: text`);
  }
  if (usernames.size > 1) problems.push(`several usernames: ${[...usernames]}`);
  if (usernames.size === 1 && !usernames.has(student)) problems.push(`username ${[...usernames]} is not ${student}`);
  return problems;
}

/** The tasks as the live server stores them on the newest night. */
const currentTasks = story.tasks.at(-1)!.tasks.map((t) => t.stored);
const newest = nightPaths.at(-1)!;
const lastNight = story.nights.at(-1)!.date;

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('merge-tmp');
  work = makeTmp('merge-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

describe('merge --auto', () => {
  for (const m of story.merges) {
    it(`${m.name}: exactly the lost texts from their last good dates, every later edit kept, and the upload takes it cleanly`, async () => {
      const current = join(STORY, m.current.file);
      const r = await runCli(['merge', '--user', m.user, '--current', current, '--auto', ...nightPaths], { tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(storyFile(m.expected));
      expect(uploadProblems(r.stdout, currentTasks, m.user)).toEqual([]);

      const out = JSON.parse(r.stdout) as Element[];
      // The texts as they are now (the live JSON's, or the last backup's).
      const now: Element[] = m.current.kind === 'json' ? JSON.parse(storyFile(m.current.file)) : JSON.parse(storyFile(`expected/${lastNight}/${m.user}.json`));
      const restored = new Set(m.restored.map((x) => x.task));
      for (const e of out.filter((x) => !restored.has(x.task_name))) {
        // Every text not restored is the current one, byte for byte (names compared as the download writes them).
        const same = now.filter((n) => n.task_name === e.task_name.toUpperCase());
        expect(same.map((n) => n.text), e.task_name).toEqual([e.text]);
      }
      // Every restored one is the version of its last good date.
      for (const x of m.restored) {
        const e = out.find((o) => o.task_name === x.task)!;
        const student = story.students.find((s) => s.usernames.at(-1) === m.user)!;
        const loss = student.losses.find((l) => story.tasks.at(-1)!.tasks.find((t) => t.id === l.taskId)?.stored === x.task)!;
        expect(loss.restoreFrom).toBe(x.from);
        const night = story.nights.find((n) => n.toolDate === x.from)!;
        const then = JSON.parse(storyFile(`expected/${night.date}/${student.usernames[story.nights.indexOf(night)]}.json`)) as Element[];
        expect(e.text).toBe(then.find((t) => t.task_name === loss.task.toUpperCase())!.text);
      }
      expect(out).toHaveLength(now.length + m.restored.filter((x) => !now.some((n) => n.task_name === x.task.toUpperCase())).length);

      // What cannot be matched is named in a warning; the summary says what came from where.
      for (const u of m.unmatched) expect(r.stderr).toMatch(new RegExp(`warning: ${u.task} \\(task id ${u.taskId}\\): no such task`));
      // (Besides the warning every merge gives: the upload deletes the student's texts.)
      if (!m.unmatched.length) expect(r.stderr).not.toMatch(/warning: (?!Uploading this file DELETES)/);
      for (const x of m.restored) expect(r.stderr).toMatch(new RegExp(`^${x.task}\\s+${x.from}\\s+\\d+`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`${m.restored.length} taken from backups`));
      expectNothingLeft(tmp);
    });
  }

  it('writes a task renamed since the loss under its current name, and a mixed-case task as stored', async () => {
    const r = await runCli(['merge', '-q', '-u', 'alice', '--current', newest, '--auto', ...nightPaths], { tmp });
    const names = (JSON.parse(r.stdout) as Element[]).map((e) => e.task_name);
    expect(names).toContain('2-COSTS');
    expect(names).not.toContain('2-COST');
    expect(names).toContain('2-Edit');
  });
});

describe('merge --take', () => {
  it('takes the named versions only (a task by its old name, a date by its start or a file name), and keeps the rest', async () => {
    const r = await runCli(
      ['merge', '-u', 'alice', '--current', newest, '--take', '3-REPORT@2026-03-09', '--take', '2-cost@2026-03-10', '--take', `1-ADD@${story.nights[1]!.file}`, ...nightPaths],
      { tmp },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(uploadProblems(r.stdout, currentTasks, 'alice')).toEqual([]);
    const out = JSON.parse(r.stdout) as Element[];
    const day = (date: string) => JSON.parse(storyFile(`expected/${date}/alice.json`)) as Element[];
    const text = (els: Element[], name: string) => els.find((e) => e.task_name === name)?.text;
    expect(text(out, '3-REPORT')).toBe(text(day('2026-03-09'), '3-REPORT'));
    expect(text(out, '2-COSTS')).toBe(text(day('2026-03-10'), '2-COST'));
    expect(text(out, '1-ADD')).toBe(text(day('2026-03-10'), '1-ADD'));
    expect(text(out, '1-TEMPLATE')).toBeUndefined(); // not taken: still gone
    expect(text(out, '0-CHANGE')).toBe(text(day(lastNight), '0-CHANGE'));
  });

  it('--auto with TASK@current keeps that task as it is now', async () => {
    const r = await runCli(['merge', '-q', '-u', 'alice', '--current', newest, '--auto', '--take', '3-REPORT@current', ...nightPaths], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Element[]).find((e) => e.task_name === '3-REPORT')!.text).toBe('I will rewrite this.');
  });

  it('--out writes the file atomically and refuses to replace one without --force', async () => {
    const out = join(work, 'alice-upload.json');
    const r = await runCli(['merge', '-u', 'alice', '--current', newest, '--auto', '-o', out, ...nightPaths], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(storyFile('expected/merge/alice-auto.json'));
    const again = await runCli(['merge', '-u', 'alice', '--current', newest, '--auto', '-o', out, ...nightPaths], { tmp });
    expect(again.code).toBe(7);
    expect(expectCleanError(again).message).toMatch(/already exists/);
    expectNothingLeft(tmp);
  });
});

describe('merge errors: one line, a hint, nothing left', () => {
  const cases: [string, () => string[], number, RegExp][] = [
    ['neither --auto nor --take', () => ['merge', '-u', 'alice', '--current', newest, ...nightPaths], 2, /needs --auto or at least one --take/],
    ['a --take that is not TASK@DATE', () => ['merge', '-u', 'alice', '--current', newest, '--take', '3-REPORT', ...nightPaths], 2, /is not TASK@DATE/],
    ['a task the student never had', () => ['merge', '-u', 'alice', '--current', newest, '--take', '5-VIZ@2026-03-10', ...nightPaths], 2, /no text for a task of that name/],
    ['a date with no backup', () => ['merge', '-u', 'alice', '--current', newest, '--take', '3-REPORT@2026-02-01', ...nightPaths], 2, /no backup of that date/],
    ['a date with no text for that task', () => ['merge', '-u', 'alice', '--current', newest, '--take', '1-TEMPLATE@2026-03-12', ...nightPaths], 2, /no text for 1-TEMPLATE in the backup of 2026-03-12 23:30/],
    ['a missing --current', () => ['merge', '-u', 'alice', '--current', join(STORY, 'nope.json'), '--auto', ...nightPaths], 5, /--current .* does not exist/],
    [
      'a --current JSON that is not the server\'s',
      () => {
        const p = join(work, 'bad.json');
        writeFileSync(p, '[{"task_name": "0-CHANGE"}]');
        return ['merge', '-u', 'alice', '--current', p, '--auto', ...nightPaths];
      },
      2,
      /is not the race server's texts JSON: element 0 has no string username/,
    ],
  ];
  for (const [name, args, code, message] of cases) {
    it(name, async () => {
      const r = await runCli(args(), { tmp });
      expect(r.code, r.stderr).toBe(code);
      expect(expectCleanError(r).message).toMatch(message);
      expect(r.stdout).toBe('');
      expectNothingLeft(tmp);
    });
  }
  it('a --current backup that fails to load stops the merge (the others may be skipped, not that one)', async () => {
    const cut = join(work, 'current-cut.sql.gz');
    const whole = readFileSync(newest);
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    const r = await runCli(['merge', '-u', 'alice', '--current', cut, '--auto', ...nightPaths], { tmp });
    expect(r.code).toBe(10);
    expect(expectCleanError(r).message).toMatch(/current-cut\.sql\.gz .*truncated/);
    expectNothingLeft(tmp);
  });
});
