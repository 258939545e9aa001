/**
 * A year of backups, readable: runs of backups where nothing changed fold
 * into one row of the terminal table and one column of the report's grid;
 * the rows that tell the story (changes, the first and the last, a loss and
 * its last good date) stay; --all-dates and --json keep every backup.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildHistory, collapseRuns, historyJson, historyKeeps, MIN_FOLDED, renderHistoryTable, shownRows, type ShownRow } from '../src/history/index.js';
import { renderHtmlReport } from '../src/report/index.js';
import type { TextRecord } from '../src/query/index.js';
import type { Snapshot, SnapshotTask } from '../src/session/index.js';
import { ROOT } from './helpers.js';

const tasks: SnapshotTask[] = [
  { id: 1, storedName: '1-ONE', phase: 1, sortPosition: 1, isEnabled: true, title: null },
  { id: 2, storedName: '2-TWO', phase: 2, sortPosition: 2, isEnabled: true, title: null },
];
let nextId = 1;
const rec = (taskId: number, body: string): TextRecord => ({
  task_name: '', username: 'alice', created_at: '2026-01-01 10:00', modified_at: null, is_enabled: true, text: body,
  textId: nextId++, taskId, phase: taskId, sortPosition: taskId, storedTaskName: '', taskTitle: null, userId: 2,
});
/** Day k of 2026 (k = 0: 2026-01-01). */
const day = (k: number) => new Date(Date.UTC(2026, 0, 1 + k)).toISOString().slice(0, 10);
const snap = (k: number, one: string, two: string | null): Snapshot => ({
  path: `buggy_race_bk_${day(k).replace(/-/g, '')}.sql.gz`,
  date: day(k),
  dateSource: 'file name',
  user: { id: 2, username: 'alice' },
  tasks,
  texts: [rec(1, one), ...(two === null ? [] : [rec(2, two)])],
});
/** n backups; texts(k) gives task 1's and task 2's text on day k. */
const year = (n: number, texts: (k: number) => [string, string | null]) => buildHistory(Array.from({ length: n }, (_, k) => snap(k, ...texts(k))), 2);

const B = (index: number): ShownRow => ({ kind: 'backup', index });
const F = (first: number, last: number): ShownRow => ({ kind: 'folded', first, last, count: last - first + 1 });

describe('collapseRuns', () => {
  it('nothing kept: the first and the last stay, everything between is one row', () => {
    expect(collapseRuns(Array(10).fill(false))).toEqual([B(0), F(1, 8), B(9)]);
  });

  it('changes on the first and the last backup: the same (those two are always shown)', () => {
    expect(collapseRuns([true, false, false, false, false, true])).toEqual([B(0), F(1, 4), B(5)]);
  });

  it(`runs of 1 and 2 stay rows (folding them saves nothing); a run of ${MIN_FOLDED} folds`, () => {
    expect(MIN_FOLDED).toBe(3);
    const keep = [true, false, true, false, false, true, false, false, false, true];
    expect(collapseRuns(keep)).toEqual([B(0), B(1), B(2), B(3), B(4), B(5), F(6, 8), B(9)]);
  });

  it('a kept backup in the middle of a long run splits it in two', () => {
    const keep = Array<boolean>(20).fill(false);
    keep[10] = true;
    expect(collapseRuns(keep)).toEqual([B(0), F(1, 9), B(10), F(11, 18), B(19)]);
  });

  it('one, two and three backups: all shown', () => {
    expect(collapseRuns([false])).toEqual([B(0)]);
    expect(collapseRuns([false, false])).toEqual([B(0), B(1)]);
    expect(collapseRuns([false, false, false])).toEqual([B(0), B(1), B(2)]);
    expect(collapseRuns([])).toEqual([]);
  });

  it('every backup of the input appears once, in order, folded or not', () => {
    const keep = Array.from({ length: 365 }, (_, k) => k % 37 === 5 || k % 91 === 0);
    const covered = collapseRuns(keep).flatMap((r) => (r.kind === 'backup' ? [r.index] : Array.from({ length: r.count }, (_, j) => r.first + j)));
    expect(covered).toEqual(Array.from({ length: 365 }, (_, k) => k));
  });
});

describe("a history's rows", () => {
  it('all unchanged: first, one folded run, last', () => {
    const h = year(30, () => ['same text', null]);
    // Only the newest backup is named by a note (the last good date), and it is shown anyway.
    expect(historyKeeps(h).flatMap((k, i) => (k ? [i] : []))).toEqual([29]);
    expect(shownRows(h)).toEqual([B(0), F(1, 28), B(29)]);
    expect(shownRows(h, true)).toHaveLength(30);
  });

  it('a loss in the middle of a long run keeps the loss and its last good date', () => {
    // Task 2 written on day 0, deleted on day 100, never written again: lost; last good day 99.
    const h = year(200, (k) => ['one', k < 100 ? 'x'.repeat(300) : null]);
    const lost = h.tasks.find((t) => t.taskId === 2)!;
    expect(lost.status).toBe('lost');
    expect(lost.lastGood!.backup.index).toBe(99);
    expect(shownRows(h)).toEqual([B(0), F(1, 98), B(99), B(100), F(101, 198), B(199)]);
  });

  it('a rename of the task is kept as a row though its text is unchanged', () => {
    const snaps = Array.from({ length: 10 }, (_, k) => {
      const s = snap(k, 'one', null);
      return k >= 5 ? { ...s, tasks: [{ ...tasks[0]!, storedName: '1-FIRST' }, tasks[1]!] } : s;
    });
    expect(shownRows(buildHistory(snaps, 2))).toEqual([B(0), F(1, 4), B(5), F(6, 8), B(9)]);
  });
});

describe('the terminal table of a year', () => {
  // 200 nightly backups with two changes (day 60: task 1 rewritten; day 150: task 2 written).
  const h = year(200, (k) => [k < 60 ? 'first draft' : 'second draft, longer', k < 150 ? null : 'new text']);

  it('a few rows, saying how many backups were folded and how to see them all', async () => {
    const out = await renderHistoryTable(h);
    const dateRows = out.split('\n').filter((l) => /^(2026-|… )/.test(l));
    const row = (k: number, one: string, two: string) => new RegExp(`^${day(k)}\\s+${one}\\s+${two}$`);
    expect(dateRows).toEqual([
      expect.stringMatching(row(0, '11 new', '-')),
      `… 59 backups, no change (${day(1)} to ${day(59)}) …`,
      expect.stringMatching(row(60, '20 changed', '-')),
      `… 89 backups, no change (${day(61)} to ${day(149)}) …`,
      expect.stringMatching(row(150, '20', '8 new')),
      `… 48 backups, no change (${day(151)} to ${day(198)}) …`,
      expect.stringMatching(row(199, '20', '8')),
    ]);
    expect(out).toContain('196 backups with no change folded into 3 rows; --all-dates shows every backup');
    // The header still counts every backup.
    expect(out).toContain('alice (user id 2): 200 backups, 2026-01-01 to 2026-07-19');
  });

  it('--all-dates: a row per backup, nothing folded', async () => {
    const out = await renderHistoryTable(h, { allDates: true });
    expect(out.split('\n').filter((l) => /^2026-/.test(l))).toHaveLength(200);
    expect(out).not.toContain('no change (');
    expect(out).not.toContain('folded');
  });

  it('the JSON keeps every backup and every version', () => {
    const j = historyJson(h);
    expect(j.backups).toHaveLength(200);
    for (const t of j.tasks) expect(t.versions).toHaveLength(200);
  });
});

describe("the report's overview grid", () => {
  const h = year(200, (k) => [k < 60 ? 'first draft' : 'second draft, longer', 'x'.repeat(k < 100 ? 300 : 10)]);
  const grid = (html: string) => html.slice(html.indexOf('<table class="grid">'), html.indexOf('</table>', html.indexOf('<table class="grid">')));

  it('a folded run is one narrow column with its count, its dates in the title', () => {
    const g = grid(renderHtmlReport(h));
    const heads = [...g.matchAll(/<th(?: class="fold")? title="[^"]*">([^<]*)<\/th>/g)].map((m) => m[1]);
    const md = (k: number) => day(k).slice(5);
    expect(heads).toEqual([md(0), '⋯59', md(60), '⋯38', md(99), md(100), '⋯98', md(199)]);
    expect(g).toContain(`<th class="fold" title="59 backups, no change (${day(1)} to ${day(59)})">⋯59</th>`);
    // One cell per task row in each folded column, coloured as the run.
    expect(g.match(/<td class="fold s-unchanged"/g)).toHaveLength(2 * 3);
    expect(g).toContain(`title="1-ONE: 59 backups, no change (${day(1)} to ${day(59)}), unchanged, 11 chars"`);
  });

  it('--all-dates: a column per backup', () => {
    const g = grid(renderHtmlReport(h, { allDates: true }));
    expect(g).not.toContain('fold');
    expect(g.match(/<th title=/g)).toHaveLength(200);
  });
});

it("the README's year excerpt is what the table prints for such a year", async () => {
  // Three tasks: 1 rewritten on day 40, 2 written on day 95 and rewritten on day 180, 3 written on day 200 and cut on day 300.
  const three: SnapshotTask[] = [
    { id: 1, storedName: '1-VALID', phase: 1, sortPosition: 1, isEnabled: true, title: null },
    { id: 2, storedName: '2-COSTS', phase: 2, sortPosition: 2, isEnabled: true, title: null },
    { id: 3, storedName: '3-REPORT', phase: 3, sortPosition: 3, isEnabled: true, title: null },
  ];
  const snaps = Array.from({ length: 365 }, (_, k) => {
    const texts = [rec(1, 'x'.repeat(k < 40 ? 120 : 148))];
    if (k >= 95) texts.push(rec(2, 'y'.repeat(k < 180 ? 212 : 233)));
    if (k >= 200) texts.push(rec(3, 'z'.repeat(k < 300 ? 746 : 20)));
    return { ...snap(k, '', null), tasks: three, texts };
  });
  const out = await renderHistoryTable(buildHistory(snaps, 2));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = /```text\n(alice \(user id 2\): 365 backups[\s\S]*?)```/.exec(readme)![1]!;
  expect(out.startsWith(shown)).toBe(true);
});
