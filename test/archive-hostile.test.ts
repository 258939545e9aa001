/**
 * Archives made to mislead, through the CLI as an admin would meet them: pg_dump 18's
 * STATISTICS DATA entries that share a table's tag, directory archives whose files are
 * symlinks, fifos or folders, TOC statements that smuggle a second statement, and data that
 * inflates past what the scratch server may hold.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFile } from '../src/archive/file.js';
import { customArchive, directoryArchive, fixtureEntries, statisticsData, tarArchive, type WEntry } from './archive-writer.js';
import { expectCleanError, expectNothingLeft, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const BOB = () => readFileSync(join(CURRENT, 'expected', 'bob.json'), 'utf8');
let tmp: string;
let work: string;
let entries: WEntry[];
beforeAll(async () => {
  tmp = makeTmp('hostile-tmp');
  work = makeTmp('hostile-work');
  ({ entries } = await fixtureEntries(join(CURRENT, 'directory')));
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

describe("pg_dump 18's STATISTICS DATA", () => {
  it('an archive with a STATISTICS DATA entry per table (same tag, data and post-data sections) exports what it would without them', async () => {
    const es: WEntry[] = [];
    let n = 30000;
    for (const e of entries) {
      es.push(e);
      if (e.desc === 'TABLE DATA') es.push(statisticsData(e, n++, 'data'));
    }
    for (const e of entries.filter((x) => x.desc === 'TABLE DATA')) es.push(statisticsData(e, n++, 'post-data'));
    const o = { version: [1, 16, 0] as const, compression: 'gzip' as const };
    const custom = join(work, 'stats.dump');
    writeFileSync(custom, customArchive(es, o));
    const piped = join(work, 'stats-piped.dump');
    writeFileSync(piped, customArchive(es, { ...o, piped: true }));
    const tar = join(work, 'stats.tar');
    writeFileSync(tar, tarArchive(es, o));
    const dir = join(work, 'stats-dir');
    directoryArchive(dir, es, o);
    for (const path of [custom, piped, tar, dir]) {
      const r = await runCli(['export', path, '-u', 'bob'], { tmp });
      expect(r.code, `${path}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(BOB());
      expectNothingLeft(tmp);
    }
  }, 120_000);
});

describe('a directory archive holds regular files only', () => {
  const o = { version: [1, 16, 0] as const, compression: 'gzip' as const };
  const usersFile = () => `${entries.find((e) => e.tag === 'users' && e.data)!.dumpId}.dat.gz`;
  let n = 0;
  const fresh = () => {
    const dir = join(work, `dir-${n++}`);
    directoryArchive(dir, entries, o);
    return dir;
  };
  async function refused(dir: string, name: string, found: RegExp) {
    const started = Date.now();
    const r = await runCli(['export', dir, '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(10);
    const { message } = expectCleanError(r);
    expect(message).toContain(`expected ${name} in the directory backup ${dir} to be a regular file`);
    expect(message).toMatch(found);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(30_000); // a fifo is not waited on
    expectNothingLeft(tmp);
  }

  it('a symlink as toc.dat, even to a copy inside the folder, is refused, naming it', async () => {
    const dir = fresh();
    renameSync(join(dir, 'toc.dat'), join(dir, 'real-toc'));
    symlinkSync('real-toc', join(dir, 'toc.dat'));
    await refused(dir, 'toc.dat', /found a symbolic link/);
  });

  it('a symlink as a data file, even to a file inside the folder, is refused, naming it', async () => {
    const dir = fresh();
    renameSync(join(dir, usersFile()), join(dir, 'users-copy'));
    symlinkSync('users-copy', join(dir, usersFile()));
    await refused(dir, usersFile(), /found a symbolic link/);
  });

  it('a symlink leading out of the folder (to /etc/passwd) is refused, naming it', async () => {
    const dir = fresh();
    rmSync(join(dir, usersFile()));
    symlinkSync('/etc/passwd', join(dir, usersFile()));
    await refused(dir, usersFile(), /found a symbolic link/);
  });

  it('a fifo as a data file or as toc.dat is refused at once, not waited on', async (ctx) => {
    if (spawnSync('mkfifo', ['--version']).status !== 0) ctx.skip('no mkfifo program here to make a fifo');
    const dir = fresh();
    rmSync(join(dir, usersFile()));
    execFileSync('mkfifo', [join(dir, usersFile())]);
    await refused(dir, usersFile(), /found a fifo/);
    const dir2 = fresh();
    rmSync(join(dir2, 'toc.dat'));
    execFileSync('mkfifo', [join(dir2, 'toc.dat')]);
    await refused(dir2, 'toc.dat', /found a fifo/);
  });

  it('a directory in place of a data file or of toc.dat is refused, naming it', async () => {
    const dir = fresh();
    rmSync(join(dir, usersFile()));
    mkdirSync(join(dir, usersFile()));
    await refused(dir, usersFile(), /found a directory/);
    const dir2 = fresh();
    rmSync(join(dir2, 'toc.dat'));
    mkdirSync(join(dir2, 'toc.dat'));
    await refused(dir2, 'toc.dat', /found a directory/);
  });

  it('the backup the admin names may itself be a symlink: a directory archive, a custom file', async () => {
    const link = join(work, 'latest-backup');
    symlinkSync(fresh(), link);
    const viaDir = await runCli(['export', link, '-u', 'bob'], { tmp });
    expect(viaDir.code, viaDir.stderr).toBe(0);
    expect(viaDir.stdout).toBe(BOB());
    const fileLink = join(work, 'latest.dump');
    symlinkSync(join(CURRENT, 'custom.dump'), fileLink);
    const viaFile = await runCli(['export', fileLink, '-u', 'bob'], { tmp });
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFile.stdout).toBe(BOB());
    expectNothingLeft(tmp);
  });
});

describe('opening a file inside a directory archive', () => {
  it('checks the opened descriptor itself: a symlink (O_NOFOLLOW) and a fifo (fstat, without waiting) are refused; a regular file opens', async (ctx) => {
    const dir = join(work, 'open-inside');
    mkdirSync(dir);
    writeFileSync(join(dir, 'real.dat'), 'x');
    symlinkSync('real.dat', join(dir, 'link.dat'));
    await expect(openFile(join(dir, 'link.dat'), dir)).rejects.toThrow(/link\.dat in the directory backup .* to be a regular file, found a symbolic link/);
    const fh = await openFile(join(dir, 'real.dat'), dir);
    expect((await fh.stat()).isFile()).toBe(true);
    await fh.close();
    // Named by the admin, a symlink is followed.
    const named = await openFile(join(dir, 'link.dat'));
    await named.close();
    if (spawnSync('mkfifo', ['--version']).status !== 0) ctx.skip('no mkfifo program here to make a fifo');
    execFileSync('mkfifo', [join(dir, 'pipe.dat')]);
    await expect(openFile(join(dir, 'pipe.dat'), dir)).rejects.toThrow(/found a fifo/);
  });
});
