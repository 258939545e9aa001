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
import { readArchiveInfo, readArchiveSql } from '../src/archive/index.js';
import { WANTED_TABLES } from '../src/filter/index.js';
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

describe('statements from the TOC are exactly the one statement pg_dump writes for their entry', () => {
  const o = { version: [1, 16, 0] as const, compression: 'gzip' as const };
  const users = () => entries.find((e) => e.tag === 'users' && e.desc === 'TABLE DATA')!;
  const texts = () => entries.find((e) => e.tag === 'tasktexts' && e.desc === 'TABLE DATA')!;
  const change = (pick: (e: WEntry) => boolean, patch: Partial<WEntry>) => entries.map((e) => (pick(e) ? { ...e, ...patch } : e));
  let n = 0;
  const custom = (es: WEntry[]) => {
    const path = join(work, `stmt-${n++}.dump`);
    writeFileSync(path, customArchive(es, o));
    return path;
  };
  const smuggledRows = () => `${texts().copyStmt!}999\t2020-01-01 00:00:00+00\t\\N\t1\t1\tnot the student's text\n\\.\n`;

  const hostile: [string, () => WEntry[], RegExp][] = [
    ['a COPY statement with a DROP after it', () => change((e) => e === users(), { copyStmt: 'COPY public.users (id) FROM stdin; DROP TABLE public.tasks;\n' }), /COPY statement of TOC entry \d+ \(TABLE DATA users\).*2 statements/],
    ['a COPY statement followed by a COPY into another table', () => change((e) => e === users(), { copyStmt: `${users().copyStmt!}${texts().copyStmt!}` }), /COPY statement of TOC entry \d+ \(TABLE DATA users\).*2 statements \(COPY PUBLIC; COPY PUBLIC\)/],
    ['a COPY statement into another table than its entry', () => change((e) => e === users(), { copyStmt: texts().copyStmt }), /COPY statement of TOC entry \d+ \(TABLE DATA users\)/],
    ['a COPY statement ending in a comment', () => change((e) => e === users(), { copyStmt: `${users().copyStmt!.trimEnd()} /* */\n` }), /does not end with the ';' of its statement/],
    ['a CREATE TABLE followed by a COPY with rows of its own', () => change((e) => e.tag === 'users' && e.desc === 'TABLE', { defn: `${entries.find((e) => e.tag === 'users' && e.desc === 'TABLE')!.defn!}${smuggledRows()}` }), /definition of TOC entry \d+ \(TABLE users\)/],
    ['a CREATE TABLE of another table under this one\'s name', () => change((e) => e.tag === 'users' && e.desc === 'TABLE', { defn: entries.find((e) => e.tag === 'tasktexts' && e.desc === 'TABLE')!.defn }), /definition of TOC entry \d+ \(TABLE users\).*CREATE TABLE public\.users/],
    ['an ENCODING setting that carries a COPY', () => change((e) => e.desc === 'ENCODING', { defn: `SET client_encoding = 'UTF8';\n${smuggledRows()}` }), /definition of TOC entry \d+ \(ENCODING ENCODING\)/],
    ['a STDSTRINGS setting that sets something else', () => change((e) => e.desc === 'STDSTRINGS', { defn: "SET search_path = 'evil';\n" }), /SET standard_conforming_strings/],
  ];
  for (const [what, make, message] of hostile) {
    it(`${what}: refused with one line (corrupt archive), nothing exported`, async () => {
      const r = await runCli(['export', custom(make()), '-u', 'bob'], { tmp });
      expect(r.code, r.stderr).toBe(10);
      const { message: line } = expectCleanError(r);
      expect(line).toMatch(/corrupt archive: /);
      expect(line).toMatch(message);
      expect(line).not.toContain("not the student's text");
      expect(r.stdout).toBe('');
      expectNothingLeft(tmp);
    });
  }

  it('through --pg-restore too, which would print the statements as they are', async (ctx) => {
    const found = [15, 16, 17, 18].map((v) => `/usr/lib/postgresql/${v}/bin/pg_restore`).find((p) => spawnSync(p, ['--version']).status === 0);
    if (!found) ctx.skip('no pg_restore 12 or newer here to read archive 1.14');
    const path = join(work, 'stmt-pg-restore.dump');
    writeFileSync(path, customArchive(hostile[1]![1](), { version: [1, 14, 0], compression: 'gzip' }));
    const r = await runCli(['export', path, '-u', 'bob', '--pg-restore', found!], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/COPY statement of TOC entry \d+ \(TABLE DATA users\)/);
    expectNothingLeft(tmp);
  });

  it("what pg_dump writes is accepted: quoted names, old pg_dump's unqualified ones, UNLOGGED, ALTER TABLEs of the same table, no column list", async () => {
    const table = (tag: string) => entries.find((e) => e.tag === tag && e.desc === 'TABLE')!;
    const es = entries.map((e) => {
      if (e === users()) return { ...e, copyStmt: e.copyStmt!.replace('COPY public.users', 'COPY "public"."users"') };
      if (e === texts()) return { ...e, copyStmt: e.copyStmt!.replace('COPY public.tasktexts', 'COPY tasktexts') };
      if (e === table('users')) return { ...e, defn: `${e.defn!.replace('CREATE TABLE public.users', 'CREATE UNLOGGED TABLE public."users"')}ALTER TABLE ONLY public.users ALTER COLUMN id SET STATISTICS 500;\nALTER TABLE public.users REPLICA IDENTITY FULL;\n` };
      if (e === table('tasktexts')) return { ...e, defn: e.defn!.replace('CREATE TABLE public.tasktexts', 'CREATE TABLE tasktexts') };
      if (e.tag === 'settings' && e.desc === 'TABLE DATA') return { ...e, copyStmt: 'COPY public.settings  FROM stdin;\n' };
      return e;
    });
    const path = custom(es);
    const info = await readArchiveInfo(path);
    const parts: Buffer[] = [];
    for await (const c of readArchiveSql(path, info, { tables: WANTED_TABLES })) parts.push(c as Buffer);
    const sql = Buffer.concat(parts).toString('utf8');
    expect(sql).toContain('COPY "public"."users" (');
    expect(sql).toContain('ALTER TABLE public.users REPLICA IDENTITY FULL;');
    const r = await runCli(['export', path, '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(BOB());
  });
});
