/**
 * What a merge tells the admin before the upload deletes the student's
 * texts: every current text it replaces (lengths, when last edited, a line
 * count of the change), the --current snapshot's time and that later edits
 * are lost, how to take a fresh current; and --auto leaving a text the
 * student wrote after the loss, saying how to take the old one instead.
 */
import { describe, expect, it } from 'vitest';
import { buildHistory } from '../src/history/index.js';
import type { Snapshot, SnapshotTask } from '../src/session/index.js';
import { freshCurrentCommands, planMerge, replacements, resolveChoices, snapshotOf, uploadWarning, type CurrentData } from '../src/merge/index.js';
import type { TextRecord } from '../src/query/index.js';
import { textRecords } from './text-records.js';

const task = (id: number, storedName: string): SnapshotTask => ({ id, storedName, phase: Number(storedName.split('-')[0]), sortPosition: id, isEnabled: true, title: null });
const record = textRecords({ username: 'k_osei', userId: 5, taskName: 'X', createdAt: '2024-10-01 10:00' });
const text = (taskId: number, body: string, modified: string | null = null): TextRecord => record(taskId, body, { modified_at: modified });
const snap = (date: string, texts: TextRecord[]): Snapshot => ({ path: `bk_${date}.sql.gz`, date, dateSource: 'file name', user: { id: 5, username: 'k_osei' }, tasks, texts });

const tasks = [task(1, '2-FORM'), task(2, '3-ENV'), task(3, '3-REPORT')];
const form = 'line one\nline two\nline three\n'.repeat(10);
const env = 'The environment is described here.\n'.repeat(20);
const reportText = 'Report.\n'.repeat(30);
const snapshots = [
  snap('2024-10-14', [text(1, form), text(2, env), text(3, reportText)]),
  // The loss: 2-FORM and 3-ENV deleted, 3-REPORT cut short.
  snap('2024-11-04', [text(3, 'Report.\n')]),
  // After the loss the student starts 3-ENV again (still under half its length).
  snap('2024-12-09', [text(2, 'Starting again: env notes.\n', '2024-12-03 10:12'), text(3, 'Report.\n')]),
];
const h = buildHistory(snapshots, 5);
const last = snapshots.at(-1)!;
const current: CurrentData = {
  kind: 'backup',
  label: 'bk_2024-12-09.sql.gz',
  date: '2024-12-09',
  dateSource: 'file name',
  username: 'k_osei',
  texts: last.texts.map((t) => ({ taskId: t.taskId, textId: t.textId, element: { task_name: tasks.find((x) => x.id === t.taskId)!.storedName, username: 'k_osei', created_at: t.created_at, modified_at: t.modified_at, is_enabled: true, text: t.text } })),
  tasks,
};

describe('--auto and a text written after the loss', () => {
  it('keeps the new text, restores the untouched losses, and says how to take the old version', () => {
    const { choices, warnings } = resolveChoices(h, current, [], true);
    expect([...choices.keys()].sort()).toEqual([1, 3]);
    expect(warnings).toEqual([
      '3-ENV: NOT restored: the student wrote a new text after the loss (27 chars, last edited 2024-12-03 10:12), kept rather than overwritten by the 700-char version of 2024-10-14; to restore that one instead: --take 3-ENV@2024-10-14',
    ]);
  });
});

describe('what the upload replaces', () => {
  const { choices } = resolveChoices(h, current, [{ task: '3-ENV', at: '2024-10-14' }], true);
  const plan = planMerge(h, current, choices, last.tasks);
  const replaced = replacements(plan);

  it('names every current text that is replaced, with both lengths, the edit time and a line count', () => {
    expect(replaced.map((r) => [r.task, r.currentChars, r.currentEditedAt, r.takenChars, r.takenFrom, r.linesAdded, r.linesRemoved])).toEqual([
      ['3-ENV', 27, '2024-12-03 10:12', 700, '2024-10-14', 20, 1],
      ['3-REPORT', 8, '2024-10-01 10:00', 240, '2024-10-14', 29, 0],
    ]);
    expect(replaced[0]!.summary).toBe('now 27 chars, last edited 2024-12-03 10:12; replaced by the 700-char version of 2024-10-14 (20 lines added, 1 removed)');
    // 2-FORM had no current text: added, not a replacement.
    expect(plan.rows.find((r) => r.task === '2-FORM')!.replaced).toBeNull();
  });

  it("the warning says the upload deletes everything, the snapshot's time and source, and how to get a fresh one", () => {
    const lines = uploadWarning(plan, current, replaced);
    expect(lines[0]).toBe("Uploading this file DELETES all of k_osei's texts on the server, then inserts these 3.");
    expect(lines[1]).toBe('--current bk_2024-12-09.sql.gz is a snapshot of 2024-12-09 (the date in the file name): anything k_osei wrote after it is lost by the upload.');
    expect(lines).toContain('It replaces 2 current texts:');
    expect(lines.filter((l) => /^ {2}3-(ENV|REPORT) +now \d+ chars/.test(l))).toHaveLength(2);
    for (const c of freshCurrentCommands()) expect(lines).toContain(`  ${c.where}: ${c.command}`);
  });

  it("an archive's time is labelled as the dumping machine's local time; the live JSON's as the file's time", () => {
    expect(snapshotOf({ kind: 'backup', date: '2026-03-12 23:30', dateSource: 'archive header' })).toEqual({
      time: '2026-03-12 23:30',
      source: "the dumping machine's local time, from the archive's header",
    });
    expect(snapshotOf({ kind: 'json', date: '2026-03-14 08:00', dateSource: 'file modification time' }).source).toMatch(/modification time/);
  });

  it('the fresh-current commands are the Docker and Heroku ones, and the Docker one writes a binary archive without a terminal', () => {
    const [docker, heroku] = freshCurrentCommands();
    expect(docker!.command).toBe('docker exec server-db-1 pg_dump -U buggy -Fc buggy_race > buggy_race_now.dump');
    expect(docker!.command).not.toMatch(/ -t /);
    expect(heroku!.command).toMatch(/heroku pg:backups:capture .*&& heroku pg:backups:download/);
  });
});
