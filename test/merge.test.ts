/**
 * The merge core on hand-made data: names written as the current data stores
 * them, by id from a backup and by name from the live JSON; what cannot be
 * matched is left out with a warning; --take parsing; and the upload check.
 */
import { describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { buildHistory } from '../src/history/index.js';
import type { Snapshot, SnapshotTask } from '../src/session/index.js';
import { checkUpload, parseCurrentJson, parseTake, planMerge, resolveChoices, type CurrentData } from '../src/merge/index.js';
import type { TextRecord } from '../src/query/index.js';
import { textRecords } from './text-records.js';

const task = (id: number, storedName: string, sortPosition = id): SnapshotTask => ({ id, storedName, phase: Number(storedName.split('-')[0]), sortPosition, isEnabled: true, title: null });
const text = textRecords({ username: 'alice', userId: 2, taskName: 'IGNORED', createdAt: '2026-03-01 10:00' });
const snap = (date: string, tasks: SnapshotTask[], texts: TextRecord[]): Snapshot => ({ path: `bk_${date}.sql.gz`, date, dateSource: 'file name', user: { id: 2, username: 'alice' }, tasks, texts });

const long = 'A long and careful text. '.repeat(10);
const edit = task(6, '2-Edit');
const report = task(7, '3-REPORT');
const flag = task(11, '3-FLAG');
const snapshots = [
  snap('2026-03-01', [edit, report, flag], [text(6, 'edit v1'), text(7, long), text(11, 'flag text')]),
  snap('2026-03-02', [edit, report], [text(6, 'edit v2'), text(7, 'oops')]),
];
const h = buildHistory(snapshots, 2);

describe('merge --auto from the live JSON', () => {
  const json = parseCurrentJson(
    'live.json',
    JSON.stringify([
      { created_at: '2026-03-01 10:00', is_enabled: true, modified_at: '2026-03-03 09:00', task_name: '2-EDIT', text: 'edit v3', username: 'alice' },
      { created_at: null, is_enabled: true, modified_at: null, task_name: '3-REPORT', text: 'oops', username: 'alice' },
      { created_at: '2026-03-03 11:00', is_enabled: true, modified_at: null, task_name: '5-NEW', text: 'written today', username: 'alice' },
    ]),
  );
  const current: CurrentData = { kind: 'json', label: 'live.json', date: null, username: json.username!, texts: json.texts, tasks: null };

  it('takes the lost text, keeps the rest, and names every task as stored', () => {
    const { choices } = resolveChoices(h, current, [], true);
    const plan = planMerge(h, current, choices, snapshots.at(-1)!.tasks);
    expect(plan.elements.map((e) => [e.task_name, e.text])).toEqual([
      ['2-Edit', 'edit v3'], // the download's upper-cased 2-EDIT, written as stored
      ['3-REPORT', long],
      ['5-NEW', 'written today'], // unknown to the backups: kept as the live JSON names it
    ]);
    expect(plan.elements.every((e) => e.username === 'alice')).toBe(true);
    // 3-FLAG's task is gone from the newest backup: named in a warning, left out.
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/^3-FLAG \(task id 11\): no such task in the newest backup .*left out/);
    expect(plan.notes.join('\n')).toMatch(/2-EDIT: written as 2-Edit/);
    expect(plan.notes.join('\n')).toMatch(/5-NEW: not in the newest backup's tasks/);
  });

  it("the deleted task's text is copied by hand with an export that reads the backup where it lies: the S3 store's endpoint passed on", () => {
    const copy = (path: string, endpoint?: string, more: string[] = []) => {
      const inS3 = buildHistory(snapshots.map((s) => ({ ...s, path: path.replace('DATE', s.date) })), 2);
      const { choices } = resolveChoices(inS3, current, [], true);
      return /copy it by hand: (.*)$/.exec(planMerge(inS3, current, choices, snapshots.at(-1)!.tasks, [...more, ...(endpoint ? ['--endpoint-url', endpoint] : [])]).warnings[0]!)?.[1];
    };
    expect(copy('s3://backups/nightly/bk_DATE.sql.gz', 'http://127.0.0.1:9000')).toBe(
      'recover-texts export s3://backups/nightly/bk_2026-03-01.sql.gz --user alice --endpoint-url http://127.0.0.1:9000 --format files --out DIR',
    );
    // A file (or AWS itself) needs none.
    expect(copy('bk_DATE.sql.gz', 'http://127.0.0.1:9000')).toBe('recover-texts export bk_2026-03-01.sql.gz --user alice --format files --out DIR');
    expect(copy('s3://backups/nightly/bk_DATE.sql.gz')).toBe('recover-texts export s3://backups/nightly/bk_2026-03-01.sql.gz --user alice --format files --out DIR');
    // The rest of how the run read its backups goes with it: the session zone, the database, the encoding.
    expect(copy('bk_DATE.sql.gz', 'http://127.0.0.1:9000', ['--timezone', 'Europe/London', '--backup-encoding', 'WIN1252'])).toBe(
      'recover-texts export bk_2026-03-01.sql.gz --user alice --timezone Europe/London --backup-encoding WIN1252 --format files --out DIR',
    );
  });

  it('--take TASK@DATE picks a version; TASK@current keeps the current text', () => {
    const { choices } = resolveChoices(h, current, [parseTake('2-edit@2026-03-01'), parseTake('3-REPORT@current')], true);
    const plan = planMerge(h, current, choices, snapshots.at(-1)!.tasks);
    expect(plan.elements.map((e) => e.text)).toEqual(['edit v1', 'oops', 'written today']);
  });
});

describe('--take', () => {
  const current: CurrentData = { kind: 'backup', label: 'bk', date: '2026-03-02', username: 'alice', texts: [], tasks: snapshots[1]!.tasks };
  const fails = (spec: string) => {
    try {
      resolveChoices(h, current, [parseTake(spec)], false);
    } catch (e) {
      expect(e).toBeInstanceOf(RecoverError);
      return (e as RecoverError).message;
    }
    throw new Error(`--take ${spec} did not fail`);
  };
  it('says what is wrong: the form, the task, the date, or no text on that date', () => {
    expect(() => parseTake('3-REPORT')).toThrow(/is not TASK@DATE/);
    expect(fails('9-NOPE@2026-03-01')).toMatch(/no text for a task of that name/);
    expect(fails('3-REPORT@2026-02')).toMatch(/no backup of that date/);
    expect(fails('3-REPORT@2026-03')).toMatch(/matches several backups/);
    expect(fails('3-FLAG@2026-03-02')).toMatch(/no text for 3-FLAG in the backup of 2026-03-02/);
  });
  it('a backup file name works as the date', () => {
    const { choices } = resolveChoices(h, current, [parseTake('3-REPORT@bk_2026-03-01.sql.gz')], false);
    expect(choices.get(7)).toEqual({ at: h.tasks.find((t) => t.taskId === 7)!.cells[0], why: 'take' });
  });
});

describe('checkUpload', () => {
  const ok = { task_name: '3-REPORT', username: 'alice', created_at: '2026-03-01 10:00', modified_at: null, is_enabled: true, text: 't' };
  const expectOk = { username: 'alice', taskNames: new Set(['3-REPORT']) };
  it('passes what the server takes, and names everything it would not', () => {
    expect(checkUpload([ok, { ...ok, created_at: null }], expectOk)).toEqual([]);
    expect(checkUpload([{ ...ok, task_name: '3-report' }], expectOk)[0]).toMatch(/no task stored as "3-report"/);
    expect(checkUpload([{ ...ok, username: 'Alice' }], expectOk)[0]).toMatch(/username "Alice"/);
    expect(checkUpload([{ ...ok, created_at: '2026-03-01 10:00:00' }], expectOk)[0]).toMatch(/created_at/);
    expect(checkUpload([{ ...ok, created_at: '2026-03-01T10:00' }], expectOk)[0]).toMatch(/created_at/);
    expect(checkUpload([{ ...ok, extra: 1 } as typeof ok], expectOk)[0]).toMatch(/keys/);
  });
  it('the live JSON is refused when it is not one student\'s texts', () => {
    expect(() => parseCurrentJson('x.json', '{}')).toThrow(/expected an array/);
    expect(() => parseCurrentJson('x.json', '[{"task_name":"0-A","username":"a","text":""},{"task_name":"0-B","username":"b","text":""}]')).toThrow(/mixes usernames/);
    expect(() => parseCurrentJson('x.json', '[{"task_name":"0-A","username":"a","text":"","created_at":"2026-03-01T10:00:00Z"}]')).toThrow(/is not YYYY-MM-DD HH:MM/);
  });
});
