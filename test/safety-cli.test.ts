/**
 * Issue 12 through the command line, on the story fixtures: a typo in any
 * named backup fails with nothing written (and a did-you-mean); merge and
 * the report name every text the upload replaces and the --current
 * snapshot's time; `export --out` to an existing file fails before anything
 * loads; a folder of backups with --since/--until, export --before, users
 * --search, and finding the student by real name.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryJson } from '../src/history/index.js';
import { engineStartWitness, expectCleanError, expectNothingLeft, makeTmp, removeTmp, ROOT, runCli } from './helpers.js';
import { nightPaths, storyFile } from './story-helpers.js';

let tmp: string;
let work: string;
let folder: string;
beforeAll(() => {
  tmp = makeTmp('safety-tmp');
  work = makeTmp('safety-work');
  // The admin's backup folder: the nightly backups, a README, and the empty file of a night the job failed.
  folder = join(work, 'backups');
  mkdirSync(folder);
  for (const p of nightPaths) copyFileSync(p, join(folder, basename(p)));
  writeFileSync(join(folder, 'README.txt'), 'nightly backups of the race server\n');
  writeFileSync(join(folder, 'buggy_race_bk_20260308.sql.gz'), '');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

const newest = () => join(folder, 'buggy_race_bk_20260313.sql.gz');
/** The issue's own typo: a .tar for what is a .sql.gz. */
const typo = () => join(folder, 'buggy_race_bk_20260311.tar');
const meant = () => join(folder, 'buggy_race_bk_20260311.sql.gz');

describe('a typo in a named backup fails the command, with did-you-mean, and writes nothing', () => {
  const cases: [string, () => string[], () => string | null][] = [
    ['history', () => ['history', '-u', 'alice', '--html', join(work, 'h.html'), nightPaths[0]!, typo(), newest()], () => join(work, 'h.html')],
    ['merge', () => ['merge', '-u', 'alice', '--current', newest(), '--auto', nightPaths[0]!, nightPaths[1]!, typo(), '-o', join(work, 'm.json')], () => join(work, 'm.json')],
    ['merge --current', () => ['merge', '-u', 'alice', '--current', typo(), '--auto', folder, '-o', join(work, 'm2.json')], () => join(work, 'm2.json')],
    ['users', () => ['users', typo()], () => null],
    ['export', () => ['export', typo(), '-u', 'alice', '-o', join(work, 'e.json')], () => join(work, 'e.json')],
  ];
  for (const [name, args, out] of cases) {
    it(name, async () => {
      const r = await runCli(args(), { tmp });
      expect(r.code, r.stderr).toBe(5);
      expect(expectCleanError(r).message).toContain(`${typo()}`);
      expect(r.stderr).toContain(`did you mean ${meant()}?`);
      expect(r.stdout).toBe('');
      if (out()) expect(existsSync(out()!)).toBe(false);
      expectNothingLeft(tmp);
    });
  }
});

describe('what the upload replaces, and when the current snapshot was taken', () => {
  it('merge names every replaced text with both lengths, the snapshot time, and how to take a fresh one', async () => {
    const out = join(work, 'alice-upload.json');
    const r = await runCli(['merge', '-u', 'alice', '--current', newest(), '--auto', folder, '-o', out], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(storyFile('expected/merge/alice-auto.json'));
    expect(r.stderr).toContain("warning: Uploading this file DELETES all of alice's texts on the server, then inserts these 8.");
    expect(r.stderr).toContain(`--current ${newest()} is a snapshot of 2026-03-13 (the date in the file name): anything alice wrote after it is lost by the upload.`);
    expect(r.stderr).toContain('It replaces 2 current texts:');
    expect(r.stderr).toMatch(/^ {2}2-COSTS +now 0 chars, last edited 2026-03-11 19:59; replaced by the 244-char version of 2026-03-10 \(\d+ lines added\)$/m);
    expect(r.stderr).toMatch(/^ {2}3-REPORT +now 20 chars, last edited 2026-03-11 19:59; replaced by the 746-char version of 2026-03-10 \(\d+ lines added, \d+ removed\)$/m);
    expect(r.stderr).toContain('docker exec server-db-1 pg_dump -U buggy -Fc buggy_race > buggy_race_now.dump');
    expect(r.stderr).toContain('heroku pg:backups:capture --app YOUR_APP && heroku pg:backups:download --app YOUR_APP');
    // The folder's README and empty night are listed and skipped; the rest is used.
    expect(r.stderr).toMatch(/skipped .*README\.txt is not a PostgreSQL backup/);
    expect(r.stderr).toMatch(/skipped .*buggy_race_bk_20260308\.sql\.gz is empty/);
  });

  it('the report names every replaced text and the snapshot time, on the banner and on each card', async () => {
    const html = join(work, 'alice.html');
    const here = join(work, 'admin');
    mkdirSync(here);
    const r = await runCli(['history', '-u', 'alice', '--html', html, folder], { tmp, cwd: here });
    expect(r.code, r.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('a snapshot of <b>2026-03-13</b> (the date in the file name)');
    expect(page).toContain('It replaces 2 current texts:');
    for (const [task, now] of [['2-COSTS', 0], ['3-REPORT', 20]] as const) {
      expect(page).toMatch(new RegExp(`<b>${task}</b></a>: now ${now} chars, last edited 2026-03-11 19:59; replaced by`));
      expect(page).toMatch(new RegExp(`id="task-\\d+">[\\s\\S]*?<h2>${task}[\\s\\S]*?<b>Replaces the current text</b> \\(snapshot of 2026-03-13\\): now ${now} chars`));
    }
    expect(page).toContain(`<pre class="cmd">cd ${folder}</pre>`);
    expect(page).toContain(`<pre class="cmd">recover-texts merge --user alice --current buggy_race_bk_20260313.sql.gz --auto . --out ${join(here, 'alice-upload.json')}</pre>`);
  });
});

describe('export', () => {
  it('an existing --out fails before anything loads: no server is started', async () => {
    // An earlier export (an upload JSON with no texts): kept without --force.
    const out = join(work, 'exists.json');
    writeFileSync(out, '[]\n');
    const witness = engineStartWitness(tmp);
    const r = await runCli(['export', newest(), '-u', 'alice', '-o', out], { tmp });
    expect(r.code).toBe(7);
    expect(expectCleanError(r).message).toMatch(/already exists/);
    expect(r.stderr).not.toMatch(/wrote|texts from the backup/);
    expect(readFileSync(out, 'utf8')).toBe('[]\n');
    // A cluster's start would have swept the witness away.
    expect(witness.untouched()).toBe(true);
    witness.remove();
    expectNothingLeft(tmp);
  });

  it('the check above can fail: a run that starts a server sweeps the witness away', async () => {
    const witness = engineStartWitness(tmp);
    const r = await runCli(['export', newest(), '-u', 'alice'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(witness.untouched()).toBe(false);
    expectNothingLeft(tmp);
  });

  it('--before takes the newest backup of a folder before the day, and the export says what its upload replaces', async () => {
    const r = await runCli(['export', '-u', 'alice', '--before', '2026-03-11', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(storyFile('expected/2026-03-10/alice.json'));
    expect(r.stderr).toContain(`using ${join(folder, 'buggy_race_bk_20260310.sql.gz')} (2026-03-10), the newest backup before 2026-03-11 in ${folder}`);
    expect(r.stderr).toContain("REPLACES ALL of alice's current texts with these 8: whatever alice wrote after 2026-03-10 is deleted");
    expect(r.stderr).toContain('3 newer backups are beside it (the newest buggy_race_bk_20260313.sql.gz, 2026-03-13)');
  });
});

describe('outputs are checked before anything loads, and --force replaces only an earlier output', () => {
  /** `args` fails with exit 7 and `message` before a server starts; nothing in `keep` is touched. */
  async function refused(args: string[], message: string, opts: { cwd?: string; keep?: string[] } = {}): Promise<void> {
    const before = (opts.keep ?? []).map((p) => [p, readdirSync(p).sort()] as const);
    const witness = engineStartWitness(tmp);
    const r = await runCli(args, { tmp, cwd: opts.cwd });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(message);
    expect(witness.untouched()).toBe(true);
    witness.remove();
    for (const [p, names] of before) expect(readdirSync(p).sort(), p).toEqual(names);
    expectNothingLeft(tmp);
  }

  it('never a backup being read, a folder that holds one, or the current folder: refused with or without --force, every backup kept', async () => {
    await refused(['scan', folder, '--restore', folder, '--force'], `recover-texts: ${folder} cannot be replaced: it is ${folder}, which is being read\n  hint: choose another --restore`, { keep: [folder] });
    await refused(['scan', folder, '--restore', folder], `recover-texts: ${folder} cannot be replaced: it is ${folder}, which is being read`, { keep: [folder] });
    await refused(['scan', folder, '--restore', work, '--force'], `${work} cannot be replaced: it holds ${folder}, which is being read`, { keep: [work, folder] });
    const here = join(work, 'here');
    mkdirSync(here, { recursive: true });
    writeFileSync(join(here, 'README.txt'), 'mine\n');
    await refused(['scan', folder, '--restore', '.', '--force'], '. cannot be replaced: it is the current folder', { cwd: here, keep: [here] });
    // A backup in a folder being read, or any backup at all: an output never replaces one.
    await refused(['merge', '--user', 'alice', '--current', newest(), '--auto', folder, '--out', newest(), '--force'], `it is ${newest()}, which is being read`, { keep: [folder] });
    const inside = join(folder, 'buggy_race_bk_20260309.sql.gz');
    const notOurs = 'cannot be replaced: it is not a file recover-texts wrote (an upload JSON, a CSV or an HTML report)';
    await refused(['history', '--user', 'alice', folder, '--html', inside, '--force'], `recover-texts: ${inside} ${notOurs}\n  hint: choose another --html`, { keep: [folder] });
    await refused(['export', folder, '--user', 'alice', '--out', newest(), '--force'], `${newest()} ${notOurs}`, { keep: [folder] });
    // Nor anything else it did not write: the empty file of a failed night, a fifo (never opened, so never waited on).
    const failedNight = join(folder, 'buggy_race_bk_20260308.sql.gz');
    await refused(['history', '--user', 'alice', folder, '--html', failedNight, '--force'], `${failedNight} ${notOurs}`, { keep: [folder] });
    const fifo = join(work, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    await refused(['export', newest(), '--user', 'alice', '--out', fifo, '--force'], `${fifo} ${notOurs}`);
  });

  it('--force replaces a folder only when recover-texts wrote it (of that kind), and never a folder where a file goes', async () => {
    const mine = join(work, 'my-work');
    mkdirSync(join(mine, 'sub'), { recursive: true });
    writeFileSync(join(mine, 'notes.txt'), 'mine\n');
    // A README.txt is not enough: only the one --restore writes.
    writeFileSync(join(mine, 'README.txt'), 'my project\n');
    await refused(['scan', folder, '--restore', mine, '--force'], `${mine} cannot be replaced: it is not a folder of uploads (scan --restore) that recover-texts wrote, and everything in it would be deleted\n  hint: choose another --restore, or empty or remove the folder yourself`, { keep: [mine] });
    await refused(['export-all', newest(), '--out', mine, '--force'], "it is not a folder of every student's texts that recover-texts wrote", { keep: [mine] });
    await refused(['scan', folder, '--html', mine, '--force'], `${mine} cannot be replaced: it is a folder, and --html writes a file`, { keep: [mine] });
  });

  it("--force replaces the tool's own folder only while it holds nothing else; an empty folder is fine", async () => {
    const everyone = join(work, 'everyone');
    const first = await runCli(['export-all', newest(), '--out', everyone], { tmp });
    expect(first.code, first.stderr).toBe(0);
    // A backup put there afterwards (a dump "just now", as README.txt says to take): kept, and said.
    copyFileSync(newest(), join(everyone, 'buggy_race_now.sql.gz'));
    await refused(['export-all', newest(), '--out', everyone, '--force'], `${everyone} cannot be replaced: it holds what recover-texts did not write there (buggy_race_now.sql.gz), which would be deleted with it`, { keep: [everyone] });
    rmSync(join(everyone, 'buggy_race_now.sql.gz'));
    const again = await runCli(['export-all', newest(), '--out', everyone, '--force'], { tmp });
    expect(again.code, again.stderr).toBe(0);
    const empty = join(work, 'empty-first');
    mkdirSync(empty);
    const into = await runCli(['export-all', newest(), '--out', empty, '--force'], { tmp });
    expect(into.code, into.stderr).toBe(0);
    expect(readdirSync(empty)).toContain('index.json');
  });

  it('an output that cannot be written fails at once, naming its option; the other output is not written', async () => {
    const page = join(work, 'who.html');
    await refused(['scan', folder, '--html', page, '--restore', join(work, 'no', 'such', 'dir')], `cannot write ${join(work, 'no', 'such', 'dir')}: its folder does not exist\n  hint: choose a writable --restore location; nothing was written`);
    expect(existsSync(page)).toBe(false);
    await refused(['history', '--user', 'alice', folder, '--html', join(work, 'nowhere', 'a.html')], 'hint: choose a writable --html location');
    await refused(['history', '--user', 'alice', folder, '--html', `${join(work, 'a.html')}/`], `cannot write ${join(work, 'a.html')}/: --html names a file, and a file's name does not end in /, nor is it . or ..`);
    // A link to nothing is there, and is not the tool's: kept, said before anything is read.
    const dangling = join(work, 'gone.html');
    symlinkSync(join(work, 'nothing-here'), dangling);
    await refused(['history', '--user', 'alice', folder, '--html', dangling, '--force'], `${dangling} cannot be replaced: it is not a file recover-texts wrote`);
  });
});

describe('a folder of backups', () => {
  it('history reads the folder, --since/--until keep the days between, and the rest are said', async () => {
    const r = await runCli(['history', '-u', 'alice', '--json', '--since', '2026-03-10', '--until', '2026-03-12', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HistoryJson;
    expect(h.backups.map((b) => b.date)).toEqual(['2026-03-10', '2026-03-11', '2026-03-12 23:30']);
    expect(h.backups.map((b) => b.dateNote)).toEqual([
      'the date in the file name',
      'the date in the file name',
      "the dumping machine's local time, from the archive's header",
    ]);
    expect(r.stderr).toContain('left out 2 backups not in the date range (buggy_race_bk_20260309.sql.gz, buggy_race_bk_20260313.sql.gz)');
    expect(r.stderr).toMatch(/skipped .*README\.txt/);
  });

  it('a bad date is a usage error before anything loads', async () => {
    const r = await runCli(['history', '-u', 'alice', '--since', '2026-02-30', folder], { tmp });
    expect(r.code).toBe(2);
    expect(expectCleanError(r).message).toMatch(/--since "2026-02-30" is not a date/);
  });
});

describe('finding the student', () => {
  it('users --search matches any part of any name, in any case', async () => {
    const r = await runCli(['users', '--search', 'OKAF', newest()], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['benjamin']);
    const ext = await runCli(['users', '--search', 'u100000', '--json', folder], { tmp });
    expect((JSON.parse(ext.stdout) as { username: string }[]).map((u) => u.username)).toEqual(['alice', 'benjamin', 'chloe']);
    expect(ext.stderr).toContain(`using ${newest()} (2026-03-13), the newest backup in ${folder}`);
  });

  it('--user "Alice Liddell" finds alice by real name and says so; "chloe martin" ignores case and accents', async () => {
    const r = await runCli(['history', '-u', 'Alice Liddell', '--json', folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as HistoryJson).user.username).toBe('alice');
    expect(r.stderr).toContain('"Alice Liddell" is alice (user id 2), found by real name');
    const e = await runCli(['export', newest(), '-u', 'chloe martin'], { tmp });
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toContain('"chloe martin" is user chloe, found by real name');
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('small things', () => {
  it('-v works like --version and prints the package version', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['-v', '--version', '-V']) {
      const r = await runCli([flag]);
      expect([flag, r.code, r.stdout]).toEqual([flag, 0, `${version}\n`]);
    }
  });

  it('merge --help shows no empty default for --take', async () => {
    const r = await runCli(['merge', '--help']);
    expect(r.stdout).toMatch(/--take <task@date>/);
    expect(r.stdout).not.toContain('(default: [])');
  });
});
