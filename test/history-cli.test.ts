/**
 * `recover-texts history` on the story: every loss found on the right date
 * with the right date to restore from, every state and length as the story
 * says, renamed students and tasks followed by id, diffs, a named backup
 * that fails failing the command, per-backup progress on a terminal, and nothing left behind.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryJson } from '../src/history/index.js';
import { CLI, ROOT, engineStartWitness, expectCleanError, makeTmp, removeTmp, runCli, expectNothingLeft } from './helpers.js';
import { nightPaths, story, STORY } from './story-helpers.js';

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('hist-tmp');
  work = makeTmp('hist-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

async function historyJson(user: string, extra: string[] = [], paths = nightPaths): Promise<HistoryJson> {
  const r = await runCli(['history', '--user', user, '--json', ...extra, ...paths], { tmp });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as HistoryJson;
}

describe('history --json on the story', () => {
  for (const student of story.students) {
    const name = student.usernames.at(-1)!;
    it(`${name}: every task's state and length on every date, and every loss on its date`, async () => {
      const h = await historyJson(name);
      expect(h.user.id).toBe(student.userId);
      expect(h.backups.map((b) => b.date)).toEqual(story.nights.map((n) => n.toolDate));
      expect(h.tasks.map((t) => t.taskId).sort((a, b) => a - b)).toEqual(student.tasks.map((t) => t.taskId));
      for (const want of student.tasks) {
        const got = h.tasks.find((t) => t.taskId === want.taskId)!;
        expect(got.versions.map((v) => v.state), `${name} task ${want.taskId}`).toEqual(want.states);
        expect(got.versions.map((v) => v.length), `${name} task ${want.taskId}`).toEqual(want.lengths);
        expect(got.versions.map((v) => v.taskName)).toEqual(want.names);
      }
      // The losses: exactly the story's, each on its date, each restored from the right one.
      const lost = h.tasks.filter((t) => t.status === 'lost');
      expect(lost.map((t) => t.taskId).sort()).toEqual(student.losses.map((l) => l.taskId).sort());
      for (const l of student.losses) {
        const t = h.tasks.find((x) => x.taskId === l.taskId)!;
        expect(t.lostOn, `${name} ${l.task}`).toBe(story.nights.find((n) => n.date === l.lostOn)!.toolDate);
        expect(t.restoreFrom, `${name} ${l.task}`).toBe(l.restoreFrom);
        expect(t.lastGood).toBe(l.restoreFrom);
        expect(t.versions.find((v) => v.date === t.restoreFrom)!.length).toBe(l.restoreLength);
      }
      // No other task is lost: chloe's two edits that shrink are not losses.
      expect(h.tasks.filter((t) => t.status !== 'ok')).toHaveLength(student.losses.length);
    });
  }

  it('follows a renamed student by id, found by the old name or the new', async () => {
    const ben = story.students.find((s) => s.usernames[0] === 'ben')!;
    const byOld = await historyJson('ben');
    const byNew = await historyJson('benjamin');
    expect(byOld).toEqual(byNew);
    expect(byNew.user).toEqual({ id: ben.userId, username: 'benjamin', renames: [{ date: '2026-03-11', from: 'ben', to: 'benjamin' }], deletedOn: null });
    // ...and by ext_username.
    expect((await historyJson('u1000002')).user.id).toBe(ben.userId);
  });

  it('shows a renamed, a disabled and a deleted task, keeping one row each', async () => {
    const h = await historyJson('alice');
    const costs = h.tasks.find((t) => t.taskId === 9)!;
    expect(costs.name).toBe('2-COSTS');
    expect(costs.renames).toEqual([{ date: '2026-03-12 23:30', from: '2-COST', to: '2-COSTS' }]);
    const valid = h.tasks.find((t) => t.taskId === 3)!;
    expect(valid.enabledChanges).toEqual([{ date: '2026-03-12 23:30', isEnabled: false }]);
    expect(valid.versions.map((v) => v.isEnabled)).toEqual([true, true, true, false, false]);
    expect(h.tasks.find((t) => t.taskId === 11)!.deletedOn).toBe('2026-03-12 23:30');
  });
});

describe('history as text', () => {
  it('a table of lengths by date and task, then each task with its status and last good date', async () => {
    const here = makeTmp('history-here');
    const r = await runCli(['history', '-u', 'alice', ...nightPaths], { tmp, cwd: here });
    removeTmp(here);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('alice (user id 2): 5 backups, 2026-03-09 to 2026-03-13');
    expect(lines.find((l) => l.startsWith('2026-03-11 '))).toMatch(/^2026-03-11\s+233\s+GONE\s+GONE\s+148\s+212\s+0 SHRUNK\s+20 SHRUNK\s+GONE\s+-$/);
    expect(lines.find((l) => l.startsWith('3-REPORT '))).toMatch(/^3-REPORT\s+LOST on 2026-03-11 \(746 -> 20 chars\)\s+2026-03-10 \(746 chars\)$/);
    expect(lines.find((l) => l.startsWith('2-COSTS '))).toMatch(/renamed from 2-COST on 2026-03-12 23:30/);
    expect(lines.find((l) => l.startsWith('1-VALID '))).toMatch(/^1-VALID\s+ok\s+2026-03-13 \(148 chars\)\s+disabled on 2026-03-12 23:30$/);
    expect(r.stdout).toContain('SHRUNK: less than 50% of its previous length and at least 20 characters shorter');
    // The way back, on stderr.
    expect(r.stderr).toMatch(/4 texts are lost \(1-TEMPLATE, 1-ADD, 2-COSTS, 3-REPORT\); to restore just those:/);
    // The fifth lost text's task was deleted since: the upload cannot carry it, and history says so and how to copy it.
    expect(r.stderr).toMatch(/warning: 3-FLAG \(task id 11\): no such task in .*buggy_race_bk_20260313\.sql\.gz \(deleted on 2026-03-12 23:30\), so its text of 2026-03-10 \(78 chars\) cannot be uploaded and is left out; copy it by hand: recover-texts export /);
    // As steps: the backups' folder, then the merge with paths relative to it, then where to upload.
    expect(r.stderr).toContain(`  1. cd ${STORY}\n  2. recover-texts merge --user alice --current buggy_race_bk_20260313.sql.gz --auto buggy_race_bk_20260309.sql.gz `);
    // The upload is written where history was run, outside the backups' folder.
    expect(r.stderr).toContain(` --out ${join(here, 'alice-upload.json')}\n  3. upload ${join(here, 'alice-upload.json')} on the race server's "Upload texts as JSON" admin page for the student alice`);
    expectNothingLeft(tmp);
  });

  it('--diff adds a unified diff for each change', async () => {
    const r = await runCli(['history', '-u', 'alice', '--diff', ...nightPaths], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('=== 3-REPORT (Write up your project)');
    expect(r.stdout).toContain('--- 3-REPORT@2026-03-10');
    expect(r.stdout).toContain('+++ 3-REPORT@2026-03-11');
    expect(r.stdout).toMatch(/^\+I will rewrite this\.$/m);
    expect(r.stdout).toMatch(/^-## Security\r$/m);
    // A deleted text is a diff to nothing.
    expect(r.stdout).toMatch(/--- 1-TEMPLATE@2026-03-10\n\+\+\+ \/dev\/null/);
  });

  it('the history of a student with no losses says so, and --json --diff carries the diffs', async () => {
    const h = await historyJson('chloe', ['--diff']);
    expect(h.tasks.every((t) => t.status === 'ok')).toBe(true);
    const change = h.tasks.find((t) => t.taskId === 1)!.versions[1]!;
    expect(change.state).toBe('changed');
    expect(change.diff).toContain('+++ 0-CHANGE@2026-03-10');
  });
});

describe('a long history, folded', () => {
  it('--all-dates shows a row for each of the story\'s 5 nights', async () => {
    const r = await runCli(['history', '-u', 'alice', '--all-dates', ...nightPaths], { tmp });
    expect(r.code, r.stderr).toBe(0);
    for (const n of story.nights) expect(r.stdout).toMatch(new RegExp(`^${n.toolDate}\\s`, 'm'));
    expect(r.stdout).not.toContain('folded');
  });

  it('a folder of nights where nothing changed: one row says how many and when; --all-dates and --json show each', async () => {
    // Eight copies of one night, dated by their names 2026-03-01 to 2026-03-08.
    const folder = join(work, 'quiet-week');
    mkdirSync(folder);
    const days = Array.from({ length: 8 }, (_, k) => `2026030${k + 1}`);
    for (const d of days) copyFileSync(nightPaths[0]!, join(folder, `buggy_race_bk_${d}.sql.gz`));
    const folded = await runCli(['history', '-u', 'alice', folder], { tmp });
    expect(folded.code, folded.stderr).toBe(0);
    const rows = folded.stdout.split('\n').filter((l) => /^(2026-|… )/.test(l));
    expect(rows.map((l) => l.split('  ')[0])).toEqual(['2026-03-01', '… 6 backups, no change (2026-03-02 to 2026-03-07) …', '2026-03-08']);
    expect(folded.stdout).toContain('6 backups with no change folded into 1 row; --all-dates shows every backup');
    const all = await runCli(['history', '-u', 'alice', '--all-dates', folder], { tmp });
    expect(all.stdout.split('\n').filter((l) => /^2026-03-0\d\s/.test(l))).toHaveLength(8);
    const json = JSON.parse((await runCli(['history', '-u', 'alice', '--json', folder], { tmp })).stdout) as HistoryJson;
    expect(json.backups.map((b) => b.date)).toEqual(days.map((d) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`));
    expectNothingLeft(tmp);
  });
});

describe('history over backups that do not all load', () => {
  // A named backup the admin chose must load: skipping it silently changed the
  // suggested merge's --current to an older one, whose upload wipes later edits.
  it('a named backup that is truncated fails the command, naming it, and writes nothing', async () => {
    const cut = join(work, 'buggy_race_bk_20260310.sql.gz');
    const whole = readFileSync(nightPaths[1]!);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const html = join(work, 'cut.html');
    const r = await runCli(['history', '-u', 'alice', '--html', html, nightPaths[0]!, cut, ...nightPaths.slice(2)], { tmp });
    expect(r.code).toBe(10);
    expect(expectCleanError(r).message).toMatch(/buggy_race_bk_20260310\.sql\.gz .*truncated/);
    expect(r.stdout).toBe('');
    expect(existsSync(html)).toBe(false);
    expectNothingLeft(tmp);
  });

  it('a typo in the newest backup fails before anything loads, with did-you-mean, and writes nothing', async () => {
    const typo = nightPaths[4]!.replace(/\.gz$/, '.g');
    const html = join(work, 'typo.html');
    const witness = engineStartWitness(tmp);
    const r = await runCli(['history', '-u', 'alice', '--html', html, ...nightPaths.slice(0, 4), typo], { tmp });
    expect(r.code).toBe(5);
    const { message } = expectCleanError(r);
    expect(message).toBe(`recover-texts: cannot read backup ${typo}: no such file; did you mean ${nightPaths[4]}?`);
    expect(r.stdout).toBe('');
    expect(existsSync(html)).toBe(false);
    // No server was started (so nothing was loaded): a cluster's start would have swept the witness away.
    expect(witness.untouched()).toBe(true);
    witness.remove();
    expectNothingLeft(tmp);
  });

  it('an unknown student is one line with the closest names, and nothing is left', async () => {
    const r = await runCli(['history', '-u', 'alise', ...nightPaths], { tmp });
    expect(r.code).toBe(12);
    expect(expectCleanError(r).message).toMatch(/no user "alise" in any of these 5 backups; closest: alice/);
    expectNothingLeft(tmp);
  });

  it('an unknown name that is part of a student\'s real name offers that student first', async () => {
    const r = await runCli(['history', '-u', 'Okafor', ...nightPaths], { tmp });
    expect(r.code).toBe(12);
    expect(expectCleanError(r).message).toMatch(/no user "Okafor" in any of these 5 backups; closest: benjamin \(Ben Okafor\), /);
    expectNothingLeft(tmp);
  });

  it('an empty night in the folder (a failed backup job) is said in the terminal, the report and --json', async () => {
    const folder = join(work, 'with-empty-night');
    mkdirSync(folder, { recursive: true });
    for (const p of nightPaths) copyFileSync(p, join(folder, basename(p)));
    writeFileSync(join(folder, 'buggy_race_bk_20260314.sql.gz'), '');
    const html = join(work, 'empty-night.html');
    const r = await runCli(['history', '--user', 'alice', '--json', '--html', html, folder], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('buggy_race_bk_20260314.sql.gz is empty (0 bytes)');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<div class="callout warn"><b>Skipped 1 backup<\/b>[^\n]*buggy_race_bk_20260314\.sql\.gz is empty \(0 bytes\)/);
    const json = JSON.parse(r.stdout) as HistoryJson;
    expect(json.failed).toEqual([{ path: join(folder, 'buggy_race_bk_20260314.sql.gz'), code: 'BACKUP_EMPTY', message: `${join(folder, 'buggy_race_bk_20260314.sql.gz')} is empty (0 bytes)` }]);
    expectNothingLeft(tmp);
  });

  it('an existing --html is refused before anything is loaded', async () => {
    // An earlier report: kept without --force.
    const html = join(work, 'exists.html');
    const earlier = '<!DOCTYPE html>\n<html><head><meta name="generator" content="recover-texts"></head></html>\n';
    writeFileSync(html, earlier);
    const r = await runCli(['history', '-u', 'alice', '--html', html, ...nightPaths], { tmp });
    expect(r.code).toBe(7);
    expect(expectCleanError(r).message).toMatch(/already exists/);
    expect(readFileSync(html, 'utf8')).toBe(earlier);
    expectNothingLeft(tmp);
  });
});

describe('progress', () => {
  const hasScript = existsSync('/usr/bin/script');
  it.skipIf(!hasScript)('shows each backup loading, and a summary line, on a terminal (skipped without util-linux script)', () => {
    // Copies in the work dir: one file the script(1) command line can name simply.
    const copies = nightPaths.map((p) => {
      const to = join(work, p.split('/').at(-1)!);
      copyFileSync(p, to);
      return to;
    });
    // Each .sql.gz night with 40 MB of race files added, so that it loads for long enough to draw its bar.
    const bulk = Array.from({ length: 40_000 }, (_, k) => `${900_000 + k}\tjson\tbulk-${k}.json\t\\N\t${'x'.repeat(1000)}\n`).join('');
    for (const copy of copies.filter((c) => c.endsWith('.sql.gz'))) {
      const dump = gunzipSync(readFileSync(copy)).toString('latin1');
      const at = dump.indexOf('\n', dump.indexOf('SET client_encoding')) + 1;
      writeFileSync(copy, gzipSync(Buffer.from(dump.slice(0, at) + `COPY public.db_files (id, type, name, item_id, contents) FROM stdin;\n${bulk}\\.\n` + dump.slice(at), 'latin1'), { level: 1 }));
    }
    const cmd = `${process.execPath} ${CLI} history -u alice --jobs 2 ${copies.join(' ')} > /dev/null`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/loading 5 backups: \d loaded, \d loading, \d waiting/);
    expect(tty.stdout).toMatch(/buggy_race_bk_2026031\d\.sql\.gz \[[#.]{20}\]\s+\d+%/);
    // (The archive loads within a frame, so whether its bar is drawn is down to timing; its line's
    // format is checked in cli-progress-format.test.ts.)
    // Bars show bytes; their rate and time left (after a fifth of a second) and the line of an
    // archive, which loads within a frame, are checked in cli-progress-format.test.ts, as is the
    // "starting PostgreSQL... 0s" line: the server now starts within one frame, so neither may be drawn here.
    expect(tty.stdout).toMatch(/\d+% [\d.]+\/[\d.]+ MB/);
    // Plain output when stderr is not a terminal: no progress at all.
    const plain = spawnSync(process.execPath, [CLI, 'history', '-u', 'alice', ...copies], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    expect(plain.stderr).not.toMatch(/loading \d+ backups/);
  });
});

describe('a deleted account', () => {
  /** The story's nights, the newest rewritten without chloe (user id 4) and her texts, as deleting the account leaves it. */
  function storyWithChloeDeleted(): { dir: string; last: string } {
    const dir = join(work, 'deleted');
    mkdirSync(dir, { recursive: true });
    for (const p of nightPaths.slice(0, -1)) copyFileSync(p, join(dir, basename(p)));
    const newest = nightPaths.at(-1)!;
    expect(newest.endsWith('.sql.gz')).toBe(true);
    let table = '';
    const kept = gunzipSync(readFileSync(newest))
      .toString('utf8')
      .split('\n')
      .filter((line) => {
        if (line.startsWith('COPY public.')) table = line.split(' ')[1]!;
        else if (line === '\\.') table = '';
        else if (table === 'public.users' && line.startsWith('chloe\t')) return false;
        else if (table === 'public.tasktexts' && line.split('\t')[3] === '4') return false;
        return true;
      });
    writeFileSync(join(dir, basename(newest)), gzipSync(kept.join('\n')));
    return { dir, last: join(dir, basename(nightPaths.at(-2)!)) };
  }

  it('history shows her texts up to the deletion, says when the account went, and how to give them back (no restore plan to an account that is gone)', async () => {
    const { dir, last } = storyWithChloeDeleted();
    const r = await runCli(['history', '--user', 'chloe', dir], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const before = story.nights.at(-2)!.toolDate;
    const gone = story.nights.at(-1)!.toolDate;
    const said = `the account chloe (user id 4) was deleted between ${before} and ${gone}: it is in no backup from ${gone} on`;
    expect(r.stdout).toContain(said);
    expect(r.stderr).toContain(`warning: ${said}`);
    // The upload goes where the restore steps would put it: where history ran (the repository, runCli's folder), not among the backups.
    expect(r.stderr).toContain(`recover-texts export ${last} --user chloe -o ${join(ROOT, 'chloe-upload.json')}\n`);
    expect(r.stderr).not.toContain('merge --user');
    const chloe = story.students.find((s) => s.userId === 4)!;
    expect(chloe.tasks.length).toBeGreaterThan(0);

    const json = await runCli(['history', '--user', 'chloe', '--json', dir], { tmp });
    const h = JSON.parse(json.stdout) as HistoryJson;
    expect(h.user.deletedOn).toBe(gone);
    expect(h.backups.map((b) => b.date)).toEqual(story.nights.map((n) => n.toolDate));
    expect(h.tasks.map((t) => t.taskId).sort((a, b) => a - b)).toEqual(chloe.tasks.map((t) => t.taskId));

    const merge = await runCli(['merge', '--user', 'chloe', '--current', join(dir, basename(nightPaths.at(-1)!)), '--auto', dir], { tmp });
    expect(expectCleanError(merge).hint).toMatch(/^ {2}hint: the account was deleted \(it is in no backup from .* on\): re-create it on the race server/);
  });

  it('a student whose account still exists gets no such note', async () => {
    const r = await runCli(['history', '--user', 'alice', '--json', ...nightPaths], { tmp });
    expect((JSON.parse(r.stdout) as HistoryJson).user.deletedOn).toBeNull();
  });
});
