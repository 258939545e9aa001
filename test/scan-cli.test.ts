/**
 * `scan`: who lost texts across a folder of nightly backups, through the CLI, on a story of six
 * nights written by this test (test/race-dump.ts): losses on different dates, a user and a task
 * renamed, a disabled task, a text re-typed after its loss, an account deleted, a task deleted
 * with a text, a student's texts uploaded again unchanged; and `--restore` writing one upload per
 * student, each accepted by the server's upload rules. In process too: the cohort model.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCohort, buildHistory, cohortJson } from '../src/history/index.js';
import { renderCohortReport } from '../src/report/index.js';
import { checkUpload } from '../src/merge/index.js';
import { Scope } from '../src/scope.js';
import { cohortTimelines, withBackups } from '../src/session/index.js';
import { makeTmp, removeTmp, ROOT, runCli } from './helpers.js';
import { writeRaceDump, type RaceTask, type RaceText, type RaceUser } from './race-dump.js';

const NIGHTS = ['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04', '2026-04-05', '2026-04-06'];
/** A text of `n` characters, different per seed. */
const text = (n: number, seed: string) => `${seed}: `.padEnd(n, seed[0]!);

/** The server on night k (1..6). */
function night(k: number): { users: RaceUser[]; tasks: RaceTask[]; texts: RaceText[] } {
  const users: RaceUser[] = [
    { id: 1, username: 'ann', first: 'Ann', last: 'Lee' },
    { id: 2, username: k >= 2 ? 'robert' : 'bob', first: 'Bob', last: 'Ray' }, // renamed on night 2
    { id: 3, username: 'cat', first: 'Cat', last: 'Moss' },
    { id: 4, username: 'dan', first: 'Dan', last: 'Ode' },
    ...(k < 5 ? [{ id: 5, username: 'eve', first: 'Eve', last: 'Hart' }] : []), // account deleted on night 5
    { id: 6, username: 'fay', first: 'Fay', last: 'Wu' },
  ];
  const tasks: RaceTask[] = [
    { id: 1, phase: 1, name: k >= 2 ? 'FIRST' : 'ALPHA' }, // renamed on night 2
    { id: 2, phase: 2, name: 'BETA' },
    { id: 3, phase: 3, name: 'GAMMA', enabled: k < 3 }, // disabled on night 3: its texts stay
    ...(k < 6 ? [{ id: 4, phase: 4, name: 'DELTA' }] : []), // deleted on night 6, with cat's text
  ];
  const u = (id: number) => users.findIndex((x) => x.id === id);
  const t = (id: number) => tasks.findIndex((x) => x.id === id);
  const texts: RaceText[] = [];
  const add = (id: number, user: number, task: number, body: string, created = '2026-03-20 09:00:00+00') => {
    if (u(user) >= 0 && t(task) >= 0) texts.push({ id, user: u(user), task: t(task), text: body, created });
  };
  if (k < 3) add(100, 1, 1, text(300, 'ann first')); // ann's 1-FIRST goes on night 3
  add(101, 1, 2, text(120, 'ann beta'));
  add(102, 2, 2, k < 4 ? text(400, 'bob beta') : 'too short'); // shrinks sharply on night 4
  add(103, 3, 3, text(200, 'cat gamma'));
  add(104, 3, 4, text(150, 'cat delta'));
  if (k < 3) add(105, 4, 2, text(250, 'dan beta'));
  if (k >= 5) add(112, 4, 2, text(260, 'dan again')); // re-typed on night 5
  add(106, 5, 1, text(180, 'eve first'));
  add(107, 5, 2, text(90, 'eve beta'));
  // fay's texts uploaded again on night 4: new rows, new timestamps, the same texts.
  add(k < 4 ? 108 : 110, 6, 1, text(220, 'fay first'), k < 4 ? undefined : '2026-04-04 08:00:00+00');
  add(k < 4 ? 109 : 111, 6, 2, text(210, 'fay beta'), k < 4 ? undefined : '2026-04-04 08:00:00+00');
  return { users, tasks, texts };
}

/** The cohort page of this story: the students in order, each linked; ids unique; every link lands; nothing runs. */
function expectCohortPage(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
  expect(new Set(ids).size).toBe(ids.length);
  for (const m of html.matchAll(/href="#([^"]+)"/g)) expect(ids).toContain(m[1]);
  const table = html.slice(html.indexOf('<table class="cohort">'), html.indexOf('</table>', html.indexOf('<table class="cohort">')));
  expect([...table.matchAll(/<a href="#student-(\d+)">([^<]+)<\/a>/g)].map((m) => [m[1], m[2]])).toEqual([['1', 'ann'], ['4', 'dan'], ['2', 'robert'], ['5', 'eve'], ['3', 'cat']]);
  // Each student's timeline, and their lost texts as the history report shows them.
  expect(ids).toEqual(expect.arrayContaining(['student-1', 'student-1-task-1', 'student-2-task-2', 'student-3-task-4', 'student-5-task-1', 'student-5-task-2']));
  expect(html).toContain('account deleted 2026-04-05');
}

let tmp: string;
let folder: string;
beforeAll(() => {
  tmp = makeTmp('scan');
  folder = join(tmp, 'backups');
  mkdirSync(folder);
  NIGHTS.forEach((date, k) => {
    const n = night(k + 1);
    writeRaceDump(join(folder, `buggy_race_bk_${date.replaceAll('-', '')}.sql`), n.users, n.tasks, n.texts);
  });
});
afterAll(() => removeTmp(tmp));

describe('scan', () => {
  it('one line per student who lost texts, by date; renames followed, a disabled task, a re-typed text and a re-upload not losses', async () => {
    const r = await runCli(['scan', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STUDENT\s+NAME\s+LOST\s+FIRST LOST\s+LAST GOOD\s+NOTES$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['ann', 'Ann Lee', '1 text', '2026-04-03', '2026-04-02'],
      ['dan', 'Dan Ode', '0 texts', '2026-04-03', '2026-04-02', '1 re-typed since'],
      ['robert', 'Bob Ray', '1 text', '2026-04-04', '2026-04-03'],
      ['eve', 'Eve Hart', '2 texts', '2026-04-05', '2026-04-04', 'account deleted 2026-04-05'],
      ['cat', 'Cat Moss', '1 text', '2026-04-06', '2026-04-05', 'task 4-DELTA deleted 2026-04-06'],
    ]);
    // fay's texts were uploaded again unchanged: not a loss, not listed.
    expect(r.stdout).not.toContain('fay');
    expect(r.stderr).toContain(`one student's texts, date by date: recover-texts history --user ann ${folder}`);
    // The README shows this very run.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = /\$ recover-texts scan \/buggy\/server\/db\/backups\n([^]*?)one student's texts/.exec(readme)?.[1];
    expect(shown).toBe(r.stdout);
  });

  it('--json: each student, their lost tasks with last good date and lengths, a deleted account, re-typed texts', async () => {
    const r = await runCli(['scan', '--json', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ReturnType<typeof cohortJson>;
    expect(j.backups).toEqual({ count: 6, from: '2026-04-01', to: '2026-04-06' });
    const by = new Map(j.students.map((s) => [s.username, s]));
    expect(by.get('robert')!.lost).toEqual([{ taskId: 2, task: '2-BETA', lostOn: '2026-04-04', lastGood: '2026-04-03', lengthBefore: 400, lengthAfter: 9, taskDeleted: null, writtenAgain: false }]);
    expect(by.get('ann')!.lost.map((l) => [l.task, l.lengthBefore, l.lengthAfter])).toEqual([['1-FIRST', 300, 0]]);
    expect(by.get('eve')!.accountDeleted).toBe('2026-04-05');
    expect(by.get('eve')!.lost.map((l) => l.task).sort()).toEqual(['1-FIRST', '2-BETA']);
    expect(by.get('dan')!.retyped).toEqual([{ taskId: 2, task: '2-BETA', lostOn: '2026-04-03', lengthBefore: 250, lengthNow: 260 }]);
    expect(by.get('cat')!.lost).toEqual([{ taskId: 4, task: '4-DELTA', lostOn: '2026-04-06', lastGood: '2026-04-05', lengthBefore: 150, lengthAfter: 0, taskDeleted: '2026-04-06', writtenAgain: false }]);
    expect(by.has('fay')).toBe(false);
  });

  it("the commands it prints read the backups as it did: the range, the session zone", async () => {
    const r = await runCli(['scan', folder, '--since', '2026-04-02', '--timezone', 'Europe/London'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`one student's texts, date by date: recover-texts history --user ann ${folder} --since 2026-04-02 --timezone Europe/London\n`);
    // README.txt's command for a deleted account too (without the range: it reads one backup).
    const out = join(tmp, 'london-uploads');
    expect((await runCli(['scan', folder, '--since', '2026-04-02', '--timezone', 'Europe/London', '--restore', out], { tmp })).code).toBe(0);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain(`recover-texts export ${join(folder, 'buggy_race_bk_20260404.sql')} --user eve --timezone Europe/London -o ${join(out, 'eve-upload.json')}\n`);
  });

  it('a range with no loss: one line, exit 0', async () => {
    const r = await runCli(['scan', folder, '--until', '2026-04-02'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('no losses in 2 backups from 2026-04-01 to 2026-04-02\n');
    // --restore with nobody to restore makes no folder.
    const out = join(tmp, 'nobody-uploads');
    const none = await runCli(['scan', folder, '--until', '2026-04-02', '--restore', out], { tmp });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain(`nothing to restore, as nobody lost texts: ${out} was not made`);
    expect(existsSync(out)).toBe(false);
    // One backup alone can show no loss, and says so.
    const one = await runCli(['scan', join(folder, 'buggy_race_bk_20260401.sql')], { tmp });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe('no losses in 1 backup (2026-04-01): a loss shows only between two backups, so give more of them, or their folder\n');
  });

  it('--restore and --html naming one place, or the page inside the folder, is a usage error, before anything is read', async () => {
    const r = await runCli(['scan', folder, '--restore', join(tmp, 'both'), '--html', join(tmp, 'both')], { tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`recover-texts: --html ${join(tmp, 'both')} is the --restore folder ${join(tmp, 'both')}`);
    // Inside it, the page would go with the folder when an earlier run's is replaced.
    const inside = await runCli(['scan', folder, '--restore', join(tmp, 'both'), '--html', join(tmp, 'both', 'who.html')], { tmp });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(`recover-texts: --html ${join(tmp, 'both', 'who.html')} is inside the --restore folder ${join(tmp, 'both')}`);
  });

  it('a range that leaves out many backups names the first two and the last (--debug: all)', async () => {
    const many = join(tmp, 'many-nights');
    mkdirSync(many);
    const n = night(1);
    for (let d = 1; d <= 8; d++) writeRaceDump(join(many, `buggy_race_bk_202605${String(d).padStart(2, '0')}.sql`), n.users, n.tasks, n.texts);
    const r = await runCli(['scan', many, '--since', '2026-05-08'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('left out 7 backups not in the date range (buggy_race_bk_20260501.sql, buggy_race_bk_20260502.sql, ... buggy_race_bk_20260507.sql; --debug lists all)');
    const all = await runCli(['scan', many, '--since', '2026-05-08', '--debug'], { tmp });
    expect(all.stderr).toContain(`left out 7 backups not in the date range (${[1, 2, 3, 4, 5, 6, 7].map((d) => `buggy_race_bk_2026050${d}.sql`).join(', ')})`);
  });

  it('backups that share a date (copied without their times): said, and --restore refuses to guess which is newest', async () => {
    const same = join(tmp, 'same-time');
    mkdirSync(same);
    const at = new Date('2026-05-01T10:00:30Z');
    ['mon', 'tue', 'wed'].forEach((name, k) => {
      const n = night(k + 1);
      writeRaceDump(join(same, `${name}.sql`), n.users, n.tasks, n.texts);
      utimesSync(join(same, `${name}.sql`), at, at);
    });
    const said =
      'warning: which came first of mon.sql, tue.sql, wed.sql is unknown: they share the date 2026-05-01 10:00 (the file\'s modification time, in UTC), so they are taken in the order of their names; copy backups with their times kept (cp -p, rsync -t), or name each with its date (buggy_race_bk_YYYYMMDD...)';
    const r = await runCli(['scan', same], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(said);
    const out = join(tmp, 'same-time-uploads');
    const refused = await runCli(['scan', same, '--restore', out], { tmp });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "recover-texts: --restore makes the uploads against the newest backup, and which one that is is unknown: mon.sql, tue.sql, wed.sql share the date 2026-05-01 10:00 (the file's modification time, in UTC)\n  hint: move all but the newest of them out of the way, or copy the backups again with their times kept (cp -p, rsync -t)",
    );
    expect(existsSync(out)).toBe(false);
    // Names that date two backups to one day are no tie: twice a day, their names order them.
    const twice = join(tmp, 'twice-a-day');
    mkdirSync(twice);
    ['0300', '1500'].forEach((time, k) => {
      const n = night(k + 1);
      writeRaceDump(join(twice, `bk_2026-05-01_${time}.sql`), n.users, n.tasks, n.texts);
    });
    const named = await runCli(['scan', twice], { tmp });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).not.toContain('which came first');
  });

  it('a lost text written again since, still sharply shorter: counted, said, and kept by --restore as merge --auto keeps it', async () => {
    const again = join(tmp, 'written-again');
    mkdirSync(again);
    const users = [{ id: 1, username: 'gil', first: 'Gil', last: 'Ash' }];
    const tasks = [{ id: 1, phase: 1, name: 'FIRST' }];
    const texts = [[{ id: 1, user: 0, task: 0, text: text(300, 'gil first') }], [], [{ id: 2, user: 0, task: 0, text: 'started again', created: '2026-05-03 09:00:00+00' }]];
    texts.forEach((t, k) => writeRaceDump(join(again, `buggy_race_bk_2026050${k + 1}.sql`), users, tasks, t));
    const r = await runCli(['scan', again], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gil +Gil Ash +1 text +2026-05-02 +2026-05-01 +1 of them written again since \(shorter; kept by --restore\)$/m);
    const json = JSON.parse((await runCli(['scan', again, '--json'], { tmp })).stdout) as { students: { lost: { writtenAgain: boolean }[] }[] };
    expect(json.students[0]!.lost.map((l) => l.writtenAgain)).toEqual([true]);
    const out = join(tmp, 'written-again-uploads');
    expect((await runCli(['scan', again, '--restore', out], { tmp })).code).toBe(0);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain('  gil (Gil Ash, user id 1):\n    1-FIRST: NOT restored: the student wrote a new text after the loss (13 chars');
  });

  it('--restore DIR: one upload per student it can restore, each accepted by the upload; README.txt says whom each is for and why the others have none', async () => {
    const out = join(tmp, 'uploads');
    const r = await runCli(['scan', folder, '--restore', out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.txt', 'ann-upload.json', 'robert-upload.json']);
    const newest = night(6);
    const taskNames = new Set(newest.tasks.map((t) => `${t.phase}-${t.name}`));
    const ann = JSON.parse(readFileSync(join(out, 'ann-upload.json'), 'utf8')) as { task_name: string; text: string }[];
    expect(checkUpload(ann as never, { username: 'ann', taskNames })).toEqual([]);
    expect(ann.map((e) => [e.task_name, e.text.length])).toEqual([['1-FIRST', 300], ['2-BETA', 120]]);
    const robert = JSON.parse(readFileSync(join(out, 'robert-upload.json'), 'utf8')) as { task_name: string; username: string; text: string }[];
    expect(checkUpload(robert as never, { username: 'robert', taskNames })).toEqual([]);
    expect(robert.map((e) => [e.task_name, e.username, e.text.length])).toEqual([['2-BETA', 'robert', 400]]);
    const readme = readFileSync(join(out, 'README.txt'), 'utf8');
    expect(readme).toMatch(/^2 uploads, one per student who lost texts/);
    expect(readme).toContain('ann-upload.json: for ann (Ann Lee, user id 1), 2 texts\n  restores: 1-FIRST\n');
    expect(readme).toContain('robert-upload.json: for robert (Bob Ray, user id 2), 1 text\n  restores: 2-BETA\n  replaces:\n    2-BETA');
    expect(readme).toContain('No file for:\n');
    expect(readme).toContain('\n  eve (Eve Hart, user id 5):\n    the account was deleted between 2026-04-04 and 2026-04-05');
    // The command to give her texts back works as pasted: its words quoted for the shell where needed, its upload written beside the others.
    expect(readme).toContain(`\n      recover-texts export ${join(folder, 'buggy_race_bk_20260404.sql')} --user eve -o ${join(out, 'eve-upload.json')}\n`);
    expect(readme).toContain('\n  cat (Cat Moss, user id 3):\n    4-DELTA (task id 4): no such task in ');
    // dan wrote his lost text again since: nothing of his is lost now, so no file and no entry.
    expect(readme).not.toContain('dan');
    expect(r.stderr).toContain(`wrote 2 uploads and README.txt to ${out}`);
    // An existing folder is kept, before anything is loaded.
    const again = await runCli(['scan', folder, '--restore', out], { tmp });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`recover-texts: ${out} already exists\n  hint: choose another --restore, or add --force to replace it`);
    expect(existsSync(join(out, 'README.txt'))).toBe(true);
  });

  it("--restore and --html of SQL_ASCII backups: a student whose texts are not UTF-8 gets no upload (never U+FFFD in one), the page says so; --backup-encoding decodes them", async () => {
    // Two nights of a SQL_ASCII server; on the second, windows's 1-REPORT (Windows-1252 bytes) is gone.
    const dir = join(tmp, 'sqlascii');
    mkdirSync(dir);
    const plain = readFileSync(join(ROOT, 'fixtures', 'encodings', 'sqlascii', 'plain.sql'));
    writeFileSync(join(dir, 'buggy_race_bk_20260301.sql'), plain);
    const lines = plain.toString('latin1').split('\n');
    writeFileSync(join(dir, 'buggy_race_bk_20260302.sql'), Buffer.from(lines.filter((l) => !l.startsWith('26\t4\t2\t')).join('\n'), 'latin1'));
    const out = join(tmp, 'sqlascii-uploads');
    const page = join(tmp, 'sqlascii.html');
    const r = await runCli(['scan', dir, '--restore', out, '--html', page], { tmp });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain(`recover-texts: 1 student gets no upload because their texts are not valid UTF-8 (README.txt says whose); ${out} holds README.txt only\n  hint: name the encoding`);
    expect(r.stderr).toContain('warning: windows: texts not valid UTF-8 in a SQL_ASCII backup show with \uFFFD in');
    expect(readdirSync(out)).toEqual(['README.txt']);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain(
      '\n  windows (Wendy Ng, user id 4):\n    the text for 1-REPORT is not valid UTF-8 in a SQL_ASCII backup, so the encoding is unknown and an upload would be wrong.\n',
    );
    expect(readFileSync(page, 'utf8')).toContain('The text for 1-REPORT is not valid UTF-8 in a SQL_ASCII backup');
    // A task renamed on the newest night to bytes that are not UTF-8: the upload would name it so, and gets none.
    const renamed = join(tmp, 'sqlascii-renamed');
    mkdirSync(renamed);
    writeFileSync(join(renamed, 'buggy_race_bk_20260301.sql'), plain);
    const night2 = lines.filter((l) => !l.startsWith('21\t2\t1\t')).map((l) => (l.startsWith('1\t0\tGET\t') ? l.replace('GET', 'G\xe9T') : l));
    writeFileSync(join(renamed, 'buggy_race_bk_20260302.sql'), Buffer.from(night2.join('\n'), 'latin1'));
    const renamedOut = join(tmp, 'sqlascii-renamed-uploads');
    const r2 = await runCli(['scan', renamed, '--restore', renamedOut], { tmp });
    expect(r2.code, r2.stderr).toBe(8);
    expect(readdirSync(renamedOut)).toEqual(['README.txt']);
    expect(readFileSync(join(renamedOut, 'README.txt'), 'utf8')).toContain('\n  utf8 (Zo\u00eb M\u00fcller, user id 2):\n    the name of task 0-G\ufffdT is not valid UTF-8 in a SQL_ASCII backup');
    // Named, the encoding decodes them: the upload holds the text as the server showed it.
    const named = join(tmp, 'sqlascii-named');
    const ok = await runCli(['scan', dir, '--restore', named, '--backup-encoding', 'WIN1252'], { tmp });
    expect(ok.code, ok.stderr).toBe(0);
    const upload = JSON.parse(readFileSync(join(named, 'windows-upload.json'), 'utf8')) as { task_name: string; text: string }[];
    expect(upload.map((e) => [e.task_name, e.text])).toEqual([['1-REPORT', '\u201cSmart quotes\u201d cost \u20ac5 \u2013 and \u2018more\u2019\u2026']]);
  });

  it('--html: one page, who and when at the top, each student a link to their timeline and lost texts; no script, every link lands', async () => {
    const page = join(tmp, 'cohort.html');
    const r = await runCli(['scan', folder, '--html', page], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expectCohortPage(html);
    expect(html).toContain('<title>Who lost texts: 5 students in 6 backups, 2026-04-01 to 2026-04-06</title>');
    // cat's 4-DELTA went with its task: its card says no upload can bring it back, and offers the text to copy by hand.
    const card = html.slice(html.indexOf('id="student-3-task-4"'), html.indexOf('</section>', html.indexOf('id="student-3-task-4"')));
    expect(card).toContain('The task was deleted on 2026-04-06: no upload can bring this text back, as the server has no such task.');
    expect(card).toContain('to copy by hand: its task is gone');
    expect(card).not.toMatch(/the upload adds it|Restoring brings back/);
  });

  it('--html and --restore in one run write the same page and uploads as each alone (each student built once for both)', async () => {
    const alone = { page: join(tmp, 'alone.html'), out: join(tmp, 'alone-uploads') };
    const both = { page: join(tmp, 'both.html'), out: join(tmp, 'both-uploads') };
    expect((await runCli(['scan', folder, '--html', alone.page], { tmp })).code).toBe(0);
    expect((await runCli(['scan', folder, '--restore', alone.out], { tmp })).code).toBe(0);
    const r = await runCli(['scan', folder, '--html', both.page, '--restore', both.out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(both.page, 'utf8')).toBe(readFileSync(alone.page, 'utf8'));
    const files = readdirSync(alone.out).sort();
    expect(readdirSync(both.out).sort()).toEqual(files);
    // The same but for the folder itself, which README.txt names where it says to write a deleted account's texts.
    for (const f of files) expect(readFileSync(join(both.out, f), 'utf8').replaceAll(both.out, alone.out), f).toBe(readFileSync(join(alone.out, f), 'utf8'));
  });

  it('in process: the cohort from the backups, one History at a time, and its page', async () => {
    const scope = new Scope();
    const paths = NIGHTS.map((d) => join(folder, `buggy_race_bk_${d.replaceAll('-', '')}.sql`));
    const { cohort, html } = await withBackups(paths, { engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {} }, async (set) => {
      const timelines = await cohortTimelines(set);
      const c = buildCohort(timelines);
      return { cohort: c, html: renderCohortReport(c, (s) => ({ h: buildHistory(timelines.snapshots(s.id), s.id) }), { timezone: 'UTC' }) };
    });
    expectCohortPage(html);
    expect(cohort.backups.map((b) => b.date)).toEqual(NIGHTS);
    expect(cohort.students.map((s) => [s.username, s.firstLost.date, s.lost.length, s.retyped.length, s.accountDeleted?.date ?? null])).toEqual([
      ['ann', '2026-04-03', 1, 0, null],
      ['dan', '2026-04-03', 0, 1, null],
      ['robert', '2026-04-04', 1, 0, null],
      ['eve', '2026-04-05', 2, 0, '2026-04-05'],
      ['cat', '2026-04-06', 1, 0, null],
    ]);
    expect(scope.liveCount).toBe(0);
  });
});
