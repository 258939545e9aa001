/**
 * Commands the tool prints are pasted into a shell by the admin: every
 * argument is shell-quoted (a folder with spaces and quotes, a username with
 * a quote, a backup date with a space), so each pasted command parses into
 * exactly the arguments meant, and runs. And a lost text the student wrote
 * again since is told apart from the texts `merge --auto` restores, in
 * `history`'s terminal output and in its report.
 *
 * The story: d'arcy's 1-GET and 3-ENV are deleted on 2024-11-05; on
 * 2024-11-06 3-ENV has a new, short text (kept by --auto), 1-GET is still gone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, expectNothingLeft, makeTmp, removeTmp, runCli } from './helpers.js';
import { writeRaceDump } from './race-dump.js';

let tmp: string;
let work: string;
let folder: string;
let argvScript: string;
const USER = "d'arcy";
const GET = 'Get the source code: '.repeat(15);
const ENV = 'Set up the environment, step by step. '.repeat(12);
const AGAIN = 'started again';
const NIGHTS = [
  { file: 'night 1.sql', at: '2024-11-03 03:00:00', texts: [GET, ENV] },
  { file: 'night 2.sql', at: '2024-11-04 03:00:00', texts: [GET, ENV] },
  { file: 'night 3.sql', at: '2024-11-05 03:00:00', texts: [null, null] },
  { file: 'night 4.sql', at: '2024-11-06 03:00:00', texts: [null, AGAIN] },
];
const RESTORE_FROM = '2024-11-04 03:00';

beforeAll(() => {
  tmp = makeTmp('paste-tmp');
  work = makeTmp('paste-work');
  folder = join(work, `backups "night" o'clock`);
  mkdirSync(folder);
  for (const n of NIGHTS) {
    const texts = n.texts.flatMap((text, task) => (text === null ? [] : [{ user: 0, task, text, created: '2024-11-01 10:00:00+00' }]));
    writeRaceDump(join(folder, n.file), [{ username: USER, first: 'Ann', last: "D'Arcy" }, { username: 'other' }], [{ phase: 1, name: 'GET' }, { phase: 3, name: 'ENV' }], texts, { startedOn: n.at });
  }
  argvScript = join(work, 'argv.cjs');
  writeFileSync(argvScript, 'process.stdout.write(JSON.stringify(process.argv.slice(2)))');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

/** The argv a shell gives `recover-texts` for the command as printed. */
function pastedArgv(command: string): string[] {
  expect(command).toMatch(/^recover-texts /);
  const fake = `${process.execPath} ${argvScript}`;
  return JSON.parse(execFileSync('sh', ['-c', command.replace(/^recover-texts /, `${fake} `)], { encoding: 'utf8' })) as string[];
}

/** Run the steps as printed (`cd ...`, then the command) in a shell, with the real recover-texts. */
function runPasted(cd: string, command: string): string {
  const real = `${process.execPath} ${CLI}`;
  return execFileSync('sh', ['-c', `${cd} && ${command.replace(/^recover-texts /, `${real} `)} 2>&1`], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
}

/** The numbered steps printed after `header`: `  1. cd ...`, `  2. recover-texts ...`. */
function stepsAfter(stderr: string, header: RegExp): { cd: string; command: string } {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => header.test(l));
  expect(at, stderr).toBeGreaterThanOrEqual(0);
  const cd = lines[at + 1]!.replace(/^\s+1\. /, '');
  const command = lines[at + 2]!.replace(/^\s+2\. /, '');
  expect(cd).toMatch(/^cd /);
  return { cd, command };
}

describe('history: the restore commands it prints work when pasted', () => {
  let stderr = '';
  const html = () => join(work, 'report.html');
  beforeAll(async () => {
    // Run from the work folder: the upload is written there, outside the backups' folder.
    const r = await runCli(['history', '--user', USER, folder, '--html', html()], { tmp, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
  });

  it('the cd and merge commands parse into exactly the folder and the arguments meant', () => {
    const { cd, command } = stepsAfter(stderr, /^1 text is lost \(1-GET\); to restore just it:$/);
    expect(execFileSync('sh', ['-c', `${cd} && pwd`], { encoding: 'utf8' }).trimEnd()).toBe(folder);
    expect(pastedArgv(command)).toEqual(['merge', '--user', USER, '--current', 'night 4.sql', '--auto', '.', '--out', join(work, 'd_arcy-upload.json')]);
    const taking = stepsAfter(stderr, /^1 lost text was written again since \(3-ENV\); kept: to take the old one instead, with the others:$/);
    expect(taking.cd).toBe(cd);
    expect(pastedArgv(taking.command)).toEqual(['merge', '--user', USER, '--current', 'night 4.sql', '--auto', '--take', `3-ENV@${RESTORE_FROM}`, '.', '--out', join(work, 'd_arcy-upload.json')]);
  });

  it('the command that takes the kept text runs as pasted: both old texts come back, and no "NOT restored" warning', () => {
    const { cd, command } = stepsAfter(stderr, /^1 lost text was written again since/);
    const out = runPasted(cd, command);
    expect(out).not.toMatch(/NOT restored/);
    const upload = JSON.parse(readFileSync(join(work, 'd_arcy-upload.json'), 'utf8')) as { task_name: string; text: string; username: string }[];
    expect(upload.map((e) => [e.task_name, e.text, e.username])).toEqual([
      ['1-GET', GET, USER],
      ['3-ENV', ENV, USER],
    ]);
    expectNothingLeft(tmp);
  });

  it('the banner names only the text the command restores; the text written again is told apart', () => {
    const banner = stderr.split('\n').find((l) => /texts? (is|are) lost/.test(l));
    expect(banner).toBe('1 text is lost (1-GET); to restore just it:');
    expect(stderr).toMatch(/^warning: 3-ENV: NOT restored: the student wrote a new text after the loss \(13 chars/m);
    expect(stderr).toContain(`to restore that one instead: --take '3-ENV@${RESTORE_FROM}'`);
  });

  it("the report's banner and 3-ENV's card say it is kept, not that restoring brings it back", () => {
    const page = readFileSync(html(), 'utf8');
    expect(page).toMatch(/<b>1 text is lost<\/b>: <a href="#task-1">1-GET<\/a>\./);
    expect(page).toMatch(/<b>1 lost text was written again since<\/b>: <a href="#task-2">3-ENV<\/a>; kept, not restored\./);
    const card = (id: number) => page.slice(page.indexOf(`id="task-${id}"`), page.indexOf('</section>', page.indexOf(`id="task-${id}"`)));
    expect(card(2)).not.toContain('Restoring brings back');
    expect(card(2)).toContain(`Not restored: the ${RESTORE_FROM} version (${ENV.length} chars), next to the text written since, which is kept`);
    expect(card(2)).toContain('NOT restored: the student wrote a new text after the loss');
    expect(card(1)).toContain(`Restoring brings back the ${RESTORE_FROM} version (${GET.length} chars)`);
    // The commands in the report are the terminal's, quoted the same way.
    const { command } = stepsAfter(stderr, /^1 lost text was written again since/);
    expect(page).toContain(command.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
  });
});

describe('merge: the hint it prints works when pasted', () => {
  it('--take as the warning shows it parses into TASK@DATE with its space, and given, silences the warning', async () => {
    const out = join(work, 'merge-auto.json');
    const args = ['merge', '--user', USER, '--current', join(folder, 'night 4.sql'), '--auto', folder, '--out', out];
    const r = await runCli(args, { tmp });
    expect(r.code, r.stderr).toBe(0);
    const warning = r.stderr.split('\n').find((l) => l.startsWith('warning: 3-ENV: NOT restored'));
    expect(warning, r.stderr).toBeDefined();
    const hint = /to restore that one instead: (.*)$/.exec(warning!)![1]!;
    const words = pastedArgv(`recover-texts ${hint}`);
    expect(words).toEqual(['--take', `3-ENV@${RESTORE_FROM}`]);

    const taken = join(work, 'merge-take.json');
    const again = await runCli([...args.slice(0, -1), taken, ...words], { tmp });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/NOT restored/);
    const upload = JSON.parse(readFileSync(taken, 'utf8')) as { task_name: string; text: string }[];
    expect(upload.find((e) => e.task_name === '3-ENV')!.text).toBe(ENV);
    expect(existsSync(out)).toBe(true);
    expectNothingLeft(tmp);
  });
});
