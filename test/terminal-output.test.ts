/**
 * The terminal is an output device: a backup whose username, real name, task
 * name and file name hold escape sequences (colour, clear screen, a window
 * title ended by BEL) and a bidi override reaches the admin's terminal with
 * those characters made visible (`\x1b`), in notes, tables, errors,
 * did-you-mean suggestions and history, while JSON data stays exact.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, expectNothingLeft, makeTmp, removeTmp, runCli, type CliResult } from './helpers.js';
import { writeRaceDump } from './race-dump.js';

const USER = 'evil\x1b[31mred\x07';
const FIRST = '\x1b]0;pwned\x07Eve';
const LAST = '\u202eLiddell\x9b2J';
const TASK = 'ENV\x1b[2J';
const TEXT = 'A long text about the environment, which the student wrote. '.repeat(4);
/** Any character a terminal acts on, but the line feed (and a CRLF's CR). */
const RAW = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

let tmp: string;
let work: string;
let dump: string;
let folder: string;
beforeAll(() => {
  tmp = makeTmp('term-tmp');
  work = makeTmp('term-work');
  const users = [{ username: USER, first: FIRST, last: LAST }, { username: 'alice' }];
  const tasks = [{ phase: 3, name: TASK, title: 'The \x1b[5mblinking\x1b[0m title' }];
  dump = writeRaceDump(join(work, 'night 1.sql'), users, tasks, [{ user: 0, task: 0, text: TEXT }, { user: 1, task: 0, text: 'hi' }], { startedOn: '2024-11-04 03:00:00' });
  folder = join(work, 'nights');
  mkdirSync(folder);
  copyFileSync(dump, join(folder, 'night\x1b[1m 1.sql'));
  writeRaceDump(join(folder, 'night 2.sql'), users, tasks, [{ user: 1, task: 0, text: 'hi\x1b]0;title\x07 there\r\nbye\r\n' }], { startedOn: '2024-11-05 03:00:00' });
  writeFileSync(join(folder, 'README\x1b[7m.txt'), 'not a backup\n');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

function expectNoRawControls(r: CliResult, streams: ('stdout' | 'stderr')[] = ['stdout', 'stderr']): void {
  for (const s of streams) expect(RAW.exec(r[s]), `${s}: ${JSON.stringify(r[s])}`).toBeNull();
}

describe('strings from a backup on the terminal', () => {
  it('users: the table shows the username, real name and their escapes as text, aligned', async () => {
    const r = await runCli(['users', dump], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoRawControls(r);
    const row = r.stdout.split('\n').find((l) => l.startsWith('evil'))!;
    expect(row).toContain('evil\\x1b[31mred\\x07');
    expect(row).toContain('\\x1b]0;pwned\\x07Eve \\u202eLiddell\\x9b2J');
    // Aligned: the TEXTS column starts at the same place on every row.
    const lines = r.stdout.trimEnd().split('\n');
    const col = lines[0]!.indexOf('TEXTS');
    for (const l of lines.slice(1)) expect(l.slice(col, col + 1), l).toMatch(/\d/);
  });

  it('export: the note on stderr shows them, and the JSON on stdout keeps the username exactly', async () => {
    const r = await runCli(['export', dump, '--user', USER], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoRawControls(r, ['stderr']);
    expect(r.stderr).toContain('evil\\x1b[31mred\\x07: 1 text from the backup of 2024-11-04 03:00');
    const json = JSON.parse(r.stdout) as { username: string; task_name: string; text: string }[];
    expect(json).toEqual([expect.objectContaining({ username: USER, task_name: `3-${TASK.toUpperCase()}`, text: TEXT })]);
  });

  it('export --format csv on stdout is data: exact', async () => {
    const r = await runCli(['export', dump, '--user', USER, '--format', 'csv'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(USER);
  });

  it('an unknown user: the error and its did-you-mean show the closest usernames made visible', async () => {
    const r = await runCli(['export', dump, '--user', 'evilred'], { tmp });
    expect(r.code).toBe(12);
    expectNoRawControls(r);
    expect(expectCleanError(r).message).toContain('evil\\x1b[31mred\\x07');
  });

  it('history: the table, the banner, the restore command and the skipped-file notes show them, and the command still works when pasted', async () => {
    const r = await runCli(['history', '--user', USER, folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoRawControls(r);
    expect(r.stdout).toContain('evil\\x1b[31mred\\x07 (user id 1)');
    expect(r.stdout).toContain(`3-ENV\\x1b[2J`);
    expect(r.stderr).toContain('1 text is lost (3-ENV\\x1b[2J)');
    expect(r.stderr).toMatch(/skipped .*README\\x1b\[7m\.txt/);
    const command = r.stderr.split('\n').find((l) => /^\s+2\. recover-texts merge/.test(l))!.replace(/^\s+2\. recover-texts /, '');
    const argv = JSON.parse(execFileSync('sh', ['-c', `${process.execPath} -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- ${command}`], { encoding: 'utf8' })) as string[];
    expect(argv.slice(0, 5)).toEqual(['merge', '--user', USER, '--current', 'night 2.sql']);
    expectNothingLeft(tmp);
  });

  it('history --diff: a text with escapes is shown with them visible, its CRLF line endings as line breaks', async () => {
    const r = await runCli(['history', '--user', 'alice', '--diff', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoRawControls(r);
    expect(r.stdout).toContain('=== 3-ENV\\x1b[2J (The \\x1b[5mblinking\\x1b[0m title)');
    expect(r.stdout).toMatch(/^\+hi\\x1b\]0;title\\x07 there\r$/m);
  });
});
