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
import { parseArchive, readArchiveInfo, readArchiveSql } from '../src/archive/index.js';
import { Lz4FrameDecoder } from '../src/archive/lz4.js';
import { MAX_TOC_ENTRIES } from '../src/archive/toc.js';
import { xxh32 } from '../src/archive/xxhash.js';
import { ZstdDecoder } from '../src/archive/zstd.js';
import { WANTED_TABLES } from '../src/filter/index.js';
import { customArchive, directoryArchive, fixtureEntries, HAVE, statisticsData, tarArchive, type WEntry } from './archive-writer.js';
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

describe('a TOC that claims more entries than it can hold', () => {
  /** A custom archive's header and a TOC count of `count`, then `filler` zero bytes where the entries would be. */
  function lyingToc(count: number, filler: number, intSize: number): string {
    const head = customArchive([], { version: [1, 16, 0], compression: 'none', intSize });
    // The TOC count is the last int of an archive with no entries and no data.
    head.fill(0, head.length - (1 + intSize));
    head.writeUIntLE(count, head.length - intSize, Math.min(intSize, 6));
    const path = join(work, `lying-toc-${count}.dump`);
    writeFileSync(path, Buffer.concat([head, Buffer.alloc(filler)]));
    return path;
  }

  it('a count the rest of the file cannot hold (900000 entries in 4 KiB) is refused at once as a TOC cut short; 2^31-1 past the cap as corrupt', async () => {
    const started = Date.now();
    const r = await runCli(['inspect', lyingToc(900_000, 4096, 4)], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/ends after 4181 bytes, inside the archive header or TOC: expected at least 84600085 bytes to read the 900000 entries the TOC says it has/);
    const huge = await runCli(['export', lyingToc(0x7fffffff, 4096, 4), '-u', 'bob'], { tmp });
    expect(huge.code, huge.stderr).toBe(10);
    expect(expectCleanError(huge).message).toMatch(/says it has 2147483647 entries, more than the 1000000/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expectNothingLeft(tmp);
  });

  it('a count past the cap is refused even when the bytes are there to hold that many entries', () => {
    // 3-byte ints: each entry of archive 1.16 takes at least 17 * 4 + 9 bytes.
    const count = MAX_TOC_ENTRIES + 1;
    const head = customArchive([], { version: [1, 16, 0], compression: 'none', intSize: 3 });
    head.writeUIntLE(count, head.length - 3, 3);
    expect(() => parseArchive(Buffer.concat([head, Buffer.alloc(count * 77)]), 'custom')).toThrow(new RegExp(`says it has ${count} entries, more than the ${MAX_TOC_ENTRIES}`));
  });

  it('as many entries as the file holds at their smallest is not refused by the count (it reads on to the entries)', () => {
    const head = customArchive([], { version: [1, 16, 0], compression: 'none', intSize: 1 });
    head.writeUInt8(3, head.length - 1);
    // Three entries of zeros: the first one's dump ID 0 is what is refused, not the count.
    expect(() => parseArchive(Buffer.concat([head, Buffer.alloc(3 * 43)]), 'custom')).toThrow(/dump ID of 1\.\.\d+ for TOC entry 1 of 3/);
    expect(() => parseArchive(Buffer.concat([head, Buffer.alloc(3 * 43 - 1)]), 'custom')).toThrow(new RegExp(`ends after ${head.length + 128} bytes, .* expected at least ${head.length + 129} bytes to read the 3 entries the TOC says it has`));
  });
});

describe('decoders pin no more memory than the output they hand out', () => {
  /** An LZ4 frame of 4 MiB maximum blocks (BD 7), each a compressed block of one literal byte. */
  function tinyBlocksFrame(blocks: number, linked: boolean): Buffer {
    const flg = 0x40 | (linked ? 0 : 0x20);
    const bd = 7 << 4;
    const head = Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bd, (xxh32(Buffer.from([flg, bd])) >>> 8) & 0xff]);
    const block = Buffer.from([2, 0, 0, 0, 0x10, 0x41]); // size 2 (compressed): token "1 literal", 'A'
    return Buffer.concat([head, ...Array.from({ length: blocks }, () => block), Buffer.alloc(4)]);
  }

  for (const linked of [false, true]) {
    it(`lz4 (${linked ? 'linked' : 'independent'} blocks): 500 one-byte blocks of a 4 MiB-block frame, all held, grow memory by well under 1 MB each`, () => {
      const blocks = 500;
      global.gc?.();
      const before = process.memoryUsage();
      const d = new Lz4FrameDecoder('t');
      const held = [...d.push(tinyBlocksFrame(blocks, linked))];
      d.end();
      const after = process.memoryUsage();
      expect(Buffer.concat(held).toString('latin1')).toBe('A'.repeat(blocks));
      // Before: each block's output was a view of its own 4 MiB buffer (2 GB for these); now one 4 MiB work buffer in all.
      const growth = after.arrayBuffers - before.arrayBuffers + Math.max(0, after.rss - before.rss);
      expect(growth).toBeLessThan(blocks * 64 * 1024);
      expect(held.every((b) => b.buffer.byteLength <= 8192)).toBe(true);
    });
  }
});

describe('zstd: the work a frame costs is bounded by what it decodes', () => {
  /** RFC 8878 by hand: magic, descriptor 0 (a window descriptor follows), window 2^log, then `blocks` blocks of `kind`. */
  function manyBlocksFrame(log: number, blocks: number, kind: 'empty' | 'rle1' | 'rle1k'): Buffer {
    const size = kind === 'empty' ? 3 : 4;
    const frame = Buffer.alloc(6 + blocks * size);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame[4] = 0;
    frame[5] = (log - 10) << 3;
    for (let i = 0; i < blocks; i++) {
      const last = i === blocks - 1 ? 1 : 0;
      // An empty raw block (type 0, size 0), or an RLE block (type 1) of one byte or 1 KiB.
      frame.writeUIntLE(kind === 'empty' ? last : last | (1 << 1) | ((kind === 'rle1' ? 1 : 1024) << 3), 6 + i * size, 3);
      if (kind !== 'empty') frame[6 + i * size + 3] = 0x41;
    }
    return frame;
  }

  it('a 2^27-window frame of 300000 empty blocks (900 KB, an hour of copying before) is refused in seconds with one line', async () => {
    const frame = manyBlocksFrame(27, 300_000, 'empty');
    const es = entries.map((e) => (e.tag === 'users' && e.desc === 'TABLE DATA' ? { ...e, rawStored: frame } : e));
    const path = join(work, 'zstd-many-blocks.dump');
    writeFileSync(path, customArchive(es, { version: [1, 16, 0], compression: 'zstd' }));
    const started = Date.now();
    const r = await runCli(['export', path, '-u', 'bob'], { tmp });
    expect(r.code, r.stderr).toBe(10);
    expect(expectCleanError(r).message).toMatch(/corrupt archive: a zstd frame of table users .* has too many small blocks for its 134217728-byte window/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expectNothingLeft(tmp);
  }, 60_000);

  it('one-byte RLE blocks in a 2^27 window are refused after a few, not decoded one window-copy each', () => {
    const d = new ZstdDecoder('t');
    const started = Date.now();
    expect(() => [...d.push(manyBlocksFrame(27, 100_000, 'rle1'))]).toThrow(/too many small blocks for its 134217728-byte window \(\d+ blocks, \d+ bytes, for \d+ bytes of data\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('1 KiB RLE blocks in a 2^27 window (each decodes to enough to pass a bound by output alone) are refused by the bound by input', () => {
    const frame = manyBlocksFrame(27, 250_000, 'rle1k'); // 1 MB of archive: an hour of copying unbounded
    const d = new ZstdDecoder('t');
    let decoded = 0;
    expect(() => {
      for (const out of d.push(frame)) decoded += out.length;
    }).toThrow(/too many small blocks for its 134217728-byte window/);
    // Refused once the work passes 2^18 copies per archive byte (plus 16 windows): a few hundred blocks in.
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(2 * 1024 * 1024);
  });

  it('real zstd data at every level the zstd program makes, --fast to --ultra -22, --long=27 and -19 --long=27, still decodes', (ctx) => {
    if (!HAVE.zstd) ctx.skip('no zstd program here to make zstd data');
    // 3 MB of a real table's rows: 24 full blocks, more than the allowance's 8 at a 2^27 window.
    const rows = entries.find((e) => e.tag === 'tasktexts' && e.data)!.data!;
    const plain = Buffer.concat(Array.from({ length: Math.ceil(3e6 / rows.length) }, (_, i) => Buffer.from(rows.toString('latin1').replaceAll('\t', `\t${i}`), 'latin1'))).subarray(0, 3e6);
    const levels = [['--fast=5'], ...Array.from({ length: 19 }, (_, i) => [`-${i + 1}`]), ['--ultra', '-20'], ['--ultra', '-22'], ['--long=27'], ['-19', '--long=27']];
    for (const flags of levels) {
      // From a pipe, as pg_dump's stream: zstd does not know the size, so the window is the level's own.
      const packed = execFileSync('zstd', ['-q', '-c', '--no-check', ...flags], { input: plain, maxBuffer: 1 << 28 });
      if (flags.includes('--long=27')) expect(packed[5]! >> 3, 'a 2^27 window').toBe(27 - 10);
      const d = new ZstdDecoder('t');
      const out: Buffer[] = [];
      for (let i = 0; i < packed.length; i += 65536) out.push(...d.push(packed.subarray(i, i + 65536)));
      d.end();
      expect(Buffer.concat(out).equals(plain), flags.join(' ')).toBe(true);
    }
  }, 300_000);
});

describe('the bytes loaded into the scratch server have a budget', () => {
  /** tasktexts rows of 1 MiB of text each: 40 MB of rows from about 40 KB of gzip. */
  function bomb(): string {
    const rows = Array.from({ length: 40 }, (_, i) => `${900 + i}\t2020-01-01 00:00:00+00\t\\N\t1\t1\t${'A'.repeat(1 << 20)}\n`).join('');
    const es = entries.map((e) => (e.tag === 'tasktexts' && e.desc === 'TABLE DATA' ? { ...e, data: Buffer.from(`${rows}\\.\n\n\n`) } : e));
    const path = join(work, 'load-bomb.dump');
    writeFileSync(path, customArchive(es, { version: [1, 16, 0], compression: 'gzip', chunk: 65536 }));
    return path;
  }

  it('past RECOVER_TEXTS_LOAD_LIMIT a small compression bomb stops with one line naming TMPDIR, and leaves nothing', async () => {
    const path = bomb();
    const r = await runCli(['export', path, '-u', 'bob'], { tmp, env: { RECOVER_TEXTS_LOAD_LIMIT: '5000000' } });
    expect(r.code, r.stderr).toBe(8);
    const { message, hint } = expectCleanError(r);
    expect(message).toMatch(/the backup's rows passed 5\.0 MB while loading tasktexts into the throwaway database \(its limit: RECOVER_TEXTS_LOAD_LIMIT\)/);
    expect(hint).toMatch(/set TMPDIR to a folder on a disk with room/);
    expect(r.stdout).toBe('');
    expectNothingLeft(tmp);
    // Under the budget (here: half the free space of TMPDIR's disk) the same backup loads.
    const ok = await runCli(['export', path, '-u', 'bob'], { tmp });
    expect(ok.code, ok.stderr).toBe(0);
    expectNothingLeft(tmp);
  }, 120_000);

  it('a limit that is not a number of bytes is a usage error', async () => {
    const r = await runCli(['export', join(CURRENT, 'custom.dump'), '-u', 'bob'], { tmp, env: { RECOVER_TEXTS_LOAD_LIMIT: '2G' } });
    expect(r.code, r.stderr).toBe(2);
    expect(expectCleanError(r).message).toMatch(/RECOVER_TEXTS_LOAD_LIMIT must be a number of bytes, found "2G"/);
    expectNothingLeft(tmp);
  });
});
