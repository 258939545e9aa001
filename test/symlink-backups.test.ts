/**
 * Backups that are symbolic links, through the CLI: a `latest.sql.gz` a cron
 * job keeps, a linked custom archive, a linked directory archive, named or in
 * a folder. They are read through the link; in a folder, a link to a backup
 * that is also there is that backup (read once), and a link whose backup is
 * gone is skipped with a note, not a crash.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryJson } from '../src/history/index.js';
import { DEMO, expectCleanError, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';
import { STORY, story } from './story-helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const expectedCurrent = (user: string) => readFileSync(join(CURRENT, 'expected', `${user}.json`), 'utf8');

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('links-tmp');
  work = makeTmp('links');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

describe('a named backup that is a symbolic link', () => {
  it('export from a link to a .sql.gz (latest.sql.gz) gives the backup\'s texts, dated by the backup it leads to', async () => {
    const link = join(work, 'latest.sql.gz');
    symlinkSync(DEMO, link);
    const r = await runCli(['export', link, '--user', 'alice'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
    expect(r.stderr).toContain('from the backup of 2026-03-15 (the date in the file name)');
  });

  it('export from a link to a custom archive', async () => {
    const link = join(work, 'latest.dump');
    symlinkSync(join(CURRENT, 'custom.dump'), link);
    const r = await runCli(['export', link, '--user', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expectedCurrent('bob'));
  });

  it('export from a link to a directory archive', async () => {
    const link = join(work, 'latest-dir');
    symlinkSync(join(CURRENT, 'directory'), link);
    const r = await runCli(['export', link, '--user', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expectedCurrent('bob'));
  });

  it('a named link whose backup is gone is a clean error that says so', async () => {
    const link = join(work, 'gone.sql.gz');
    symlinkSync(join(work, 'pruned', 'buggy_race_bk_20250101.sql.gz'), link);
    const r = await runCli(['export', link, '--user', 'alice'], { tmp });
    expect(r.code).toBe(5);
    expect(expectCleanError(r).message).toBe(`recover-texts: cannot read backup ${link}: it is a symbolic link to ${join(work, 'pruned', 'buggy_race_bk_20250101.sql.gz')}, which does not exist`);
  });
});

describe('a folder with symbolic links in it', () => {
  it('history reads a linked backup, reads a link to a backup already there once, and skips a dangling link with a note', async () => {
    const dir = join(work, 'backups');
    mkdirSync(dir);
    const nights = story.nights;
    // The gzipped nights copied in; the custom archive (night 4) only as a link to it.
    for (const n of nights) {
      if (n.format === 'custom') symlinkSync(join(STORY, n.file), join(dir, n.file));
      else copyFileSync(join(STORY, n.file), join(dir, n.file));
    }
    const newest = nights.at(-1)!.file;
    symlinkSync(newest, join(dir, 'latest.sql.gz'));
    symlinkSync(join(work, 'nowhere', 'buggy_race_bk_20260301.sql.gz'), join(dir, 'buggy_race_bk_20260301.sql.gz'));
    const r = await runCli(['history', '--user', 'alice', '--json', dir], { tmp });
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HistoryJson;
    expect(h.backups.map((b) => b.date)).toEqual(nights.map((n) => n.toolDate));
    expect(h.backups.map((b) => b.path)).toEqual(nights.map((n) => join(dir, n.file)));
    expect(r.stderr).toContain(`skipped ${join(dir, 'latest.sql.gz')}: a symbolic link to ${join(dir, newest)}, which is read already`);
    expect(r.stderr).toContain(
      `skipped ${join(dir, 'buggy_race_bk_20260301.sql.gz')}: cannot read backup ${join(dir, 'buggy_race_bk_20260301.sql.gz')}: it is a symbolic link to ${join(work, 'nowhere', 'buggy_race_bk_20260301.sql.gz')}, which does not exist`,
    );
  });

  it('a folder holding only a link is its backup (export takes the newest)', async () => {
    const dir = join(work, 'only-link');
    mkdirSync(dir);
    symlinkSync(DEMO, join(dir, 'latest.sql.gz'));
    const r = await runCli(['export', dir, '--user', 'alice'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
  });
});
