/**
 * The history core, as pure functions over hand-made snapshots: what counts
 * as new, changed, unchanged, shrunk sharply or gone; which tasks are still
 * lost and which date to restore from; renames followed by id; and diffs.
 */
import { describe, expect, it } from 'vitest';
import { buildHistory, isSharpShrink, SHARP_SHRINK, taskDiffs, textLength } from '../src/history/index.js';
import { chooseUser, type Snapshot, type SnapshotTask } from '../src/session/index.js';
import type { TextRecord } from '../src/query/index.js';

const task = (id: number, name: string, extra: Partial<SnapshotTask> = {}): SnapshotTask => ({
  id,
  storedName: name,
  phase: Number(name.split('-')[0]),
  sortPosition: id,
  isEnabled: true,
  title: null,
  ...extra,
});

let nextTextId = 1;
const text = (taskId: number, body: string, extra: Partial<TextRecord> = {}): TextRecord => ({
  task_name: '',
  username: 'alice',
  created_at: '2026-03-01 10:00',
  modified_at: null,
  is_enabled: true,
  text: body,
  textId: nextTextId++,
  taskId,
  phase: 0,
  sortPosition: 0,
  storedTaskName: '',
  taskTitle: null,
  userId: 2,
  ...extra,
});

function snap(date: string, tasks: SnapshotTask[], texts: TextRecord[], username: string | null = 'alice'): Snapshot {
  return { path: `bk_${date}.sql.gz`, date, dateSource: 'file name', user: username ? { id: 2, username } : null, tasks, texts };
}

const x = (n: number) => 'x'.repeat(n);

describe('shrunk sharply', () => {
  it('is less than half and at least 20 characters shorter, both', () => {
    expect(SHARP_SHRINK).toEqual({ ratio: 0.5, minChars: 20 });
    expect(isSharpShrink(100, 49)).toBe(true);
    expect(isSharpShrink(100, 50)).toBe(false); // exactly half is not less than half
    expect(isSharpShrink(40, 19)).toBe(true); // 21 shorter
    expect(isSharpShrink(39, 19)).toBe(true); // exactly 20 shorter is enough
    expect(isSharpShrink(30, 11)).toBe(false); // less than half, only 19 shorter
    expect(isSharpShrink(30, 0)).toBe(true);
    expect(isSharpShrink(19, 0)).toBe(false); // a short text emptied: under 20 characters lost
  });

  it('counts characters, not UTF-16 units or bytes', () => {
    expect(textLength('🏎️é')).toBe(3); // U+1F3CE, U+FE0F, é
    expect(textLength('a\r\nb')).toBe(4);
  });
});

describe('buildHistory', () => {
  const t1 = task(1, '0-CHANGE');
  const t2 = task(2, '1-ADD');

  it('classifies each date against the one before', () => {
    const h = buildHistory(
      [
        snap('2026-03-01', [t1, t2], [text(1, x(100))]),
        snap('2026-03-02', [t1, t2], [text(1, x(100)), text(2, x(60))]),
        snap('2026-03-03', [t1, t2], [text(1, x(120)), text(2, x(40))]),
        snap('2026-03-04', [t1, t2], [text(1, x(30))]),
        snap('2026-03-05', [t1, t2], []),
        snap('2026-03-06', [t1, t2], []),
      ],
      2,
    );
    const [a, b] = h.tasks;
    expect(a!.cells.map((c) => c.state)).toEqual(['new', 'unchanged', 'changed', 'shrunk', 'gone', 'none']);
    expect(b!.cells.map((c) => c.state)).toEqual(['none', 'new', 'changed', 'gone', 'none', 'none']);
    expect(a!.cells.map((c) => c.version?.length ?? null)).toEqual([100, 100, 120, 30, null, null]);
  });

  it('a task still lost restores its longest version before the loss, from the newest date that version existed', () => {
    const long = x(300);
    const h = buildHistory(
      [
        snap('2026-03-01', [t1], [text(1, x(200))]),
        snap('2026-03-02', [t1], [text(1, long)]),
        snap('2026-03-03', [t1], [text(1, long)]),
        snap('2026-03-04', [t1], [text(1, x(250))]), // shorter, but not sharply: an edit
        snap('2026-03-05', [t1], [text(1, 'oops')]),
        snap('2026-03-06', [t1], [text(1, 'oops')]),
      ],
      2,
    );
    const t = h.tasks[0]!;
    expect(t.status).toBe('lost');
    expect(t.lostAt!.backup.date).toBe('2026-03-05');
    expect(t.restoreFrom!.backup.date).toBe('2026-03-03');
    expect(t.lastGood).toBe(t.restoreFrom);
  });

  it('a loss written back to at least half is "rewritten", with nothing to restore; a task never lost is ok', () => {
    const h = buildHistory(
      [
        snap('2026-03-01', [t1, t2], [text(1, x(200)), text(2, x(50))]),
        snap('2026-03-02', [t1, t2], [text(2, x(50))]),
        snap('2026-03-03', [t1, t2], [text(1, x(120)), text(2, x(55))]),
      ],
      2,
    );
    expect(h.tasks.map((t) => [t.status, t.restoreFrom, t.lastGood?.backup.index])).toEqual([
      ['rewritten', null, 2],
      ['ok', null, 2],
    ]);
  });

  it('follows a task by id across a rename, and notes renames, disabling and deletion', () => {
    const h = buildHistory(
      [
        snap('2026-03-01', [task(9, '2-COST'), t1], [text(9, x(80)), text(1, x(10))]),
        snap('2026-03-02', [task(9, '2-COSTS', { isEnabled: false }), t1], [text(9, x(80)), text(1, x(10))]),
        snap('2026-03-03', [task(9, '2-COSTS', { isEnabled: false })], [text(9, x(80))]),
      ],
      2,
    );
    const costs = h.tasks.find((t) => t.taskId === 9)!;
    expect(costs.name).toBe('2-COSTS');
    expect(costs.cells.map((c) => c.state)).toEqual(['new', 'unchanged', 'unchanged']);
    expect(costs.renames).toEqual([{ at: h.dates[1], from: '2-COST', to: '2-COSTS' }]);
    expect(costs.enabledChanges).toEqual([{ at: h.dates[1], isEnabled: false }]);
    const change = h.tasks.find((t) => t.taskId === 1)!;
    expect(change.deletedAt).toBe(h.dates[2]);
    expect(change.cells[2]!.state).toBe('gone');
  });

  it('follows the student across a rename', () => {
    const h = buildHistory(
      [snap('2026-03-01', [t1], [text(1, 'a')], 'ben'), snap('2026-03-02', [t1], [text(1, 'a')], 'benjamin'), snap('2026-03-03', [t1], [text(1, 'a')], 'benjamin')],
      2,
    );
    expect(h.user).toEqual({ id: 2, username: 'benjamin', renames: [{ at: h.dates[1], from: 'ben', to: 'benjamin' }], deletedAt: null });
  });

  it('says when the account was deleted: the first backup after the newest that has it (not a backup before it existed)', () => {
    const h = buildHistory(
      [snap('2026-03-01', [t1], [], null), snap('2026-03-02', [t1], [text(1, 'a')]), snap('2026-03-03', [t1], [text(1, 'a')]), snap('2026-03-04', [t1], [], null), snap('2026-03-05', [t1], [], null)],
      2,
    );
    expect(h.user.deletedAt).toBe(h.dates[3]);
    expect(h.user.username).toBe('alice');
    const alive = buildHistory([snap('2026-03-01', [t1], [], null), snap('2026-03-02', [t1], [text(1, 'a')])], 2);
    expect(alive.user.deletedAt).toBeNull();
  });

  it('two texts for one task (no unique constraint) are one version, in text id order', () => {
    const a = text(1, 'first', { textId: 50 });
    const b = text(1, 'second', { textId: 40 });
    const h = buildHistory([snap('2026-03-01', [t1], [a, b])], 2);
    expect(h.tasks[0]!.cells[0]!.version!.texts.map((t) => t.textId)).toEqual([40, 50]);
    expect(h.tasks[0]!.cells[0]!.version!.text).toMatch(/^second\n\n-----.*-----\n\nfirst$/);
  });

  it('orders tasks as the server does: phase, then sort position, then name', () => {
    const h = buildHistory(
      [snap('2026-03-01', [task(5, '2-B', { sortPosition: 1 }), task(6, '2-A', { sortPosition: 1 }), task(7, '1-Z', { sortPosition: 100 })], [text(5, 'b'), text(6, 'a'), text(7, 'z')])],
      2,
    );
    expect(h.tasks.map((t) => t.name)).toEqual(['1-Z', '2-A', '2-B']);
  });
});

describe('taskDiffs', () => {
  it('gives a unified diff for each change, named by task and date', () => {
    const t1 = task(1, '3-REPORT');
    const h = buildHistory(
      [
        snap('2026-03-01', [t1], [text(1, 'one\ntwo\nthree\n')]),
        snap('2026-03-02', [t1], [text(1, 'one\n2\nthree\n')]),
        snap('2026-03-03', [t1], [text(1, 'one\n2\nthree\n')]),
        snap('2026-03-04', [t1], []),
      ],
      2,
    );
    const diffs = taskDiffs(h.tasks[0]!);
    expect(diffs.map((d) => [d.from?.backup.index, d.to.backup.index, d.state])).toEqual([
      [0, 1, 'changed'],
      [2, 3, 'gone'],
    ]);
    expect(diffs[0]!.patch).toContain('--- 3-REPORT@2026-03-01');
    expect(diffs[0]!.patch).toContain('+++ 3-REPORT@2026-03-02');
    expect(diffs[0]!.patch).toMatch(/^-two$/m);
    expect(diffs[0]!.patch).toMatch(/^\+2$/m);
    expect(diffs[1]!.patch).toContain('+++ /dev/null');
  });
});

describe('chooseUser', () => {
  const u = (id: number, username: string) => ({ id, username, extUsername: null, firstName: null, lastName: null, isStudent: true, isActive: true });
  it('follows the id the newest match has, and says when the name also matched someone else', () => {
    expect(chooseUser([{ date: 'a', user: u(3, 'ben') }, { date: 'b', user: null }])).toEqual({ id: 3, note: null });
    const c = chooseUser([{ date: 'a', user: u(3, 'sam') }, { date: 'b', user: u(8, 'sam') }]);
    expect(c!.id).toBe(8);
    expect(c!.note).toMatch(/another account \(sam, id 3, on a\); following id 8/);
    expect(chooseUser([{ date: 'a', user: null }])).toBeNull();
  });
});

describe('snapshots that share their records', () => {
  it("backups holding the very records of the one before (scan's timelines) give the history fresh copies give", () => {
    const tasks = [task(1, '1-ALPHA'), task(2, '2-BETA'), task(1, '1-SHADOW')];
    const a = text(1, x(300));
    const b = text(2, `${x(100)}é🏎️`);
    const b2 = text(2, x(10));
    const dates = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'];
    // Shared: the same record objects from night to night while nothing changes (b shrinks on night 3, a goes on night 5).
    const shared = [[a, b], [a, b], [a, b2], [a, b2], [b2]];
    const fresh = shared.map((texts) => texts.map((t) => ({ ...t })));
    const build = (nights: TextRecord[][]) => buildHistory(nights.map((texts, k) => snap(dates[k]!, tasks, texts)), 2);
    const h = build(shared);
    expect(h).toEqual(build(fresh));
    // And it is the history these nights make: the first task row of an id named, the shrink and the loss seen.
    expect(h.tasks.map((t) => [t.name, t.status, t.cells.map((c) => `${c.state}:${c.version?.length ?? '-'}`).join(' ')])).toEqual([
      ['1-ALPHA', 'lost', 'new:300 unchanged:300 unchanged:300 unchanged:300 gone:-'],
      ['2-BETA', 'lost', 'new:103 unchanged:103 shrunk:10 unchanged:10 unchanged:10'],
    ]);
  });
});

describe('snapshots that share their lists (scan gives a backup where nothing of the student changed the very lists of the one before)', () => {
  it('give the same history as snapshots that share nothing, each version shared by the cells it did not change in', () => {
    const tasks = [task(1, '0-CHANGE'), task(2, '1-ADD')];
    const a = text(1, x(120));
    const b = text(2, x(80));
    const a2 = text(1, x(30), { textId: a.textId });
    const kept = [a, b];
    const shared = [
      snap('2026-03-01', tasks, kept),
      snap('2026-03-02', tasks, kept),
      snap('2026-03-03', tasks, kept),
      snap('2026-03-04', tasks, [a2, b]),
      snap('2026-03-05', tasks, [b]),
      snap('2026-03-06', tasks, [b]),
    ];
    const h = buildHistory(shared, 2);
    // Each snapshot's own lists and records (structuredClone would keep what they share shared).
    const apart = shared.map((sn) => ({ ...sn, tasks: sn.tasks.map((t) => ({ ...t })), texts: sn.texts.map((t) => ({ ...t })) }));
    expect(apart[1]!.texts).not.toBe(apart[0]!.texts);
    expect(h).toEqual(buildHistory(apart, 2));
    const [t1, t2] = [h.tasks.find((t) => t.taskId === 1)!, h.tasks.find((t) => t.taskId === 2)!];
    expect(t1.cells.map((c) => c.state)).toEqual(['new', 'unchanged', 'unchanged', 'shrunk', 'gone', 'none']);
    expect(t1.status).toBe('lost');
    expect(t1.restoreFrom!.backup.date).toBe('2026-03-03');
    expect(t2.cells.every((c) => c.version === t2.cells[0]!.version)).toBe(true);
    expect(t1.cells[1]!.version).toBe(t1.cells[0]!.version);
  });
});
