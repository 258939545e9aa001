/**
 * The pg_dump archive header/TOC reader (src/archive: header.ts, toc.ts, info.ts).
 *
 * Synthetic archives come from a small writer below that follows WriteHead/WriteToc in
 * PostgreSQL's src/bin/pg_dump/pg_backup_archiver.c (and _WriteExtraToc of the custom, tar
 * and directory formats), for every archive version 1.12 .. 1.16. Real archives come from
 * fixtures/generated/current (when the fixture generator has run) or from a throwaway
 * cluster and the machine's pg_dump, and are checked against `pg_restore -l`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, realpathSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  MAX_ARCHIVE_VERSION,
  parseArchive,
  readArchiveInfo,
  type ArchiveFormat,
  type ArchiveInfo,
  type ArchiveTocEntry,
} from '../src/archive/index.js';
import { RecoverError } from '../src/errors.js';
import { ArchiveBytes, tarHeader, vcode, VERSIONS, writeHead, writeTocEntry, type TocFields, type Version } from './archive-writer.js';

// ---------------------------------------------------------------------------------------------
// Archives with any header and TOC, written by the test writer's WriteHead / WriteToc
// ---------------------------------------------------------------------------------------------

/** A TOC entry as written, with the format's extra: custom, its data offset; tar and directory, its file name. */
interface WEntry extends TocFields {
  /** custom: data offset flag (1 not set, 2 set, 3 no data) and value; tar/dir: file name. */
  offset?: { flag: number; value: bigint };
  file?: string | null;
}

interface WArchive {
  version: Version;
  format: ArchiveFormat;
  intSize?: number;
  offSize?: number;
  /** < 1.15: a zlib level; >= 1.15: the algorithm byte. */
  compressionLevel?: number;
  compressionAlg?: number;
  tm?: { sec: number; min: number; hour: number; mday: number; mon: number; year: number; isdst: number };
  dbname?: string | null;
  serverVersion?: string | null;
  dumpVersion?: string | null;
  entries: WEntry[];
  /** Override the TOC count (to write nonsense). */
  tocCount?: number;
}

const FORMAT_BYTE: Record<ArchiveFormat, number> = { custom: 1, tar: 3, directory: 3 };

/** The test writer's WriteHead and WriteToc entries, with any value in any field. */
function writeArchive(a: WArchive): Buffer {
  const w = new ArchiveBytes(a.intSize ?? 4, a.offSize ?? 8);
  const tm = a.tm ?? { sec: 45, min: 22, hour: 7, mday: 24, mon: 10, year: 126, isdst: 0 };
  writeHead(w, {
    version: a.version,
    formatByte: FORMAT_BYTE[a.format],
    compression: vcode(a.version) >= vcode([1, 15, 0]) ? (a.compressionAlg ?? 0) : (a.compressionLevel ?? 0),
    tm: [tm.sec, tm.min, tm.hour, tm.mday, tm.mon, tm.year, tm.isdst],
    dbname: a.dbname === undefined ? 'racedb' : a.dbname,
    serverVersion: a.serverVersion === undefined ? '15.18 (Debian 15.18-0+deb12u1)' : a.serverVersion,
    dumpVersion: a.dumpVersion === undefined ? '15.18 (Debian 15.18-0+deb12u1)' : a.dumpVersion,
  });
  w.int(a.tocCount ?? a.entries.length);
  for (const e of a.entries) {
    writeTocEntry(w, a.version, e);
    if (a.format === 'custom') {
      const o = e.offset ?? { flag: 3, value: 0n };
      w.offset(o.flag, o.value);
    } else {
      w.str(e.file === undefined ? '' : e.file);
    }
  }
  return w.done();
}

// A small TOC shaped like a race-server dump.
function sampleEntries(format: ArchiveFormat, piped = false): WEntry[] {
  const base = {
    hadDumper: false,
    section: 2,
    defn: null,
    dropStmt: null,
    copyStmt: null,
    tablespace: null,
    tableam: null,
    relkind: 0,
    deps: [] as string[],
  };
  const dataAt = (value: bigint) => (format === 'custom' ? { offset: { flag: piped ? 1 : 2, value } } : {});
  return [
    {
      ...base,
      dumpId: 3368,
      tableOid: '0',
      oid: '0',
      tag: 'ENCODING',
      desc: 'ENCODING',
      defn: "SET client_encoding = 'UTF8';\n",
      namespace: null,
      owner: null,
    },
    {
      ...base,
      dumpId: 215,
      tableOid: '1259',
      oid: '16386',
      tag: 'users',
      desc: 'TABLE',
      defn: 'CREATE TABLE public.users (id integer NOT NULL, username text);\n',
      dropStmt: 'DROP TABLE public.users;\n',
      namespace: 'public',
      tablespace: '',
      tableam: 'heap',
      relkind: 'r'.charCodeAt(0),
      owner: 'racer',
    },
    {
      ...base,
      dumpId: 216,
      tableOid: '1259',
      oid: '16394',
      tag: 'tâches_élève_id_seq',
      desc: 'SEQUENCE',
      namespace: 'public',
      tablespace: '',
      relkind: 'S'.charCodeAt(0),
      owner: 'racer',
    },
    {
      ...base,
      dumpId: 218,
      tableOid: '1259',
      oid: '16409',
      tag: 'v',
      desc: 'VIEW',
      namespace: 'public',
      relkind: 'v'.charCodeAt(0),
      owner: 'racer',
      deps: ['215', '216'],
    },
    {
      ...base,
      dumpId: 3362,
      hadDumper: true,
      section: 3,
      tableOid: '0',
      oid: '16386',
      tag: 'users',
      desc: 'TABLE DATA',
      copyStmt: 'COPY public.users (id, username) FROM stdin;\n',
      namespace: 'public',
      owner: 'racer',
      deps: ['215'],
      file: '3362.dat',
      ...dataAt(5630n),
    },
    {
      ...base,
      dumpId: 3363,
      hadDumper: true,
      section: 3,
      tableOid: '0',
      oid: '16395',
      tag: 'tasktexts',
      desc: 'TABLE DATA',
      copyStmt: 'COPY public.tasktexts (id, text) FROM stdin;\n',
      namespace: 'public',
      owner: 'racer',
      deps: ['217'],
      file: '3363.dat',
      ...dataAt(2n ** 40n),
    },
    {
      ...base,
      dumpId: 3364,
      hadDumper: true,
      section: 3,
      tableOid: '0',
      oid: '16396',
      tag: 'huge',
      desc: 'TABLE DATA',
      copyStmt: 'COPY public.huge (x) FROM stdin;\n',
      namespace: 'public',
      owner: 'racer',
      deps: ['219'],
      file: '3364.dat',
      ...dataAt(2n ** 60n + 7n),
    },
    {
      ...base,
      dumpId: 3216,
      section: 4,
      tableOid: '2606',
      oid: '16393',
      tag: 'users users_pkey',
      desc: 'CONSTRAINT',
      namespace: 'public',
      owner: 'racer',
      deps: ['215'],
    },
  ];
}

/** What the reader should return for a writer entry. */
function expectedEntry(e: WEntry, format: ArchiveFormat, v: Version): ArchiveTocEntry {
  const code = vcode(v);
  const out: ArchiveTocEntry = {
    dumpId: e.dumpId,
    desc: e.desc,
    namespace: e.namespace ?? '',
    tag: e.tag ?? '',
    owner: e.owner ?? '',
    hadDumper: e.hadDumper,
    dataState: 'none',
    dependencies: e.deps.map(Number),
    tableOid: Number(e.tableOid),
    oid: Number(e.oid),
    section: (['', 'none', 'pre-data', 'data', 'post-data'] as const)[e.section] as ArchiveTocEntry['section'],
    tablespace: e.tablespace,
    tableam: code >= vcode([1, 14, 0]) ? e.tableam : null,
    relkind: code >= vcode([1, 16, 0]) && e.relkind !== 0 ? String.fromCharCode(e.relkind) : null,
    defn: e.defn,
    copyStmt: e.copyStmt,
  };
  if (format === 'custom') {
    const o = e.offset ?? { flag: 3, value: 0n };
    if (o.flag === 2) {
      out.dataState = 'offset';
      out.dataOffset = o.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o.value) : o.value;
    } else if (o.flag === 1) out.dataState = 'no-offset';
  } else if (e.file) {
    out.dataState = 'file';
    out.dataFile = e.file;
  }
  return out;
}

const FORMATS: ArchiveFormat[] = ['custom', 'tar', 'directory'];

function sampleArchive(version: Version, format: ArchiveFormat, extra: Partial<WArchive> = {}): WArchive {
  const modern = vcode(version) >= vcode([1, 15, 0]);
  return {
    version,
    format,
    compressionLevel: modern ? undefined : -1,
    compressionAlg: modern ? 1 : undefined,
    entries: sampleEntries(format),
    ...extra,
  };
}

function expectedInfo(a: WArchive): ArchiveInfo {
  const code = vcode(a.version);
  const compression: ArchiveInfo['compression'] =
    code >= vcode([1, 15, 0])
      ? { algorithm: (['none', 'gzip', 'lz4', 'zstd'] as const)[a.compressionAlg ?? 0]! }
      : { algorithm: (a.compressionLevel ?? 0) === 0 ? 'none' : 'gzip', level: a.compressionLevel ?? 0 };
  const toc = a.entries.map((e) => expectedEntry(e, a.format, a.version));
  const data = toc.filter((e) => e.desc === 'TABLE DATA');
  return {
    format: a.format,
    version: {
      major: a.version[0],
      minor: a.version[1],
      rev: a.version[2],
      text: a.version[2] === 0 ? `${a.version[0]}.${a.version[1]}` : a.version.join('.'),
    },
    intSize: a.intSize ?? 4,
    offSize: a.offSize ?? 8,
    compression,
    dumpedAt: { year: 2026, month: 11, day: 24, hour: 7, minute: 22, second: 45, isDst: 0 },
    database: 'racedb',
    serverVersion: '15.18 (Debian 15.18-0+deb12u1)',
    pgDumpVersion: '15.18 (Debian 15.18-0+deb12u1)',
    toc,
    hasDataOffsets:
      a.format === 'custom' ? data.every((e) => e.dataState !== 'no-offset') : data.every((e) => e.dataState === 'file'),
    // The writer writes the header and TOC only: they end where its bytes do.
    tocEnd: writeArchive(a).length,
  };
}

// ---------------------------------------------------------------------------------------------
// Containers: a tar file and a directory around the header+TOC bytes
// ---------------------------------------------------------------------------------------------


function tarMember(name: string, content: Buffer): Buffer {
  const pad = (512 - (content.length % 512)) % 512;
  return Buffer.concat([tarHeader(name, content.length), content, Buffer.alloc(pad)]);
}

function tarFile(members: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([...members.map(([n, c]) => tarMember(n, c)), Buffer.alloc(1024)]);
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'archive-header-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let seq = 0;
/** Put the header+TOC bytes where readArchiveInfo expects them for the format; return the path. */
async function materialize(bytes: Buffer, format: ArchiveFormat, trailer = Buffer.from('data blocks follow')): Promise<string> {
  const base = join(tmp, `a${seq++}`);
  if (format === 'custom') {
    await writeFile(base, Buffer.concat([bytes, trailer]));
    return base;
  }
  if (format === 'tar') {
    await writeFile(base, tarFile([['toc.dat', bytes], ['3362.dat', Buffer.from('1\talice\n\\.\n')]]));
    return base;
  }
  await mkdir(base);
  await writeFile(join(base, 'toc.dat'), bytes);
  await writeFile(join(base, '3362.dat'), '1\talice\n\\.\n');
  return base;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

async function caughtAsync(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

const haveSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const NOBODY = 65534;

/**
 * readArchiveInfo(path) in a process of the unprivileged user nobody (root reads any file):
 * { read: true }, or its error as that process saw it (a RecoverError is rebuilt as one).
 */
function readArchiveInfoAsNobody(path: string): unknown {
  const root = resolve(import.meta.dirname, '..');
  const script = `
    import { readArchiveInfo } from ${JSON.stringify(join(root, 'src', 'archive', 'index.ts'))};
    import { RecoverError } from ${JSON.stringify(join(root, 'src', 'errors.ts'))};
    try {
      await readArchiveInfo(${JSON.stringify(path)});
      console.log(JSON.stringify({ read: true }));
    } catch (e) {
      console.log(JSON.stringify({ recover: e instanceof RecoverError, code: e.code, exit: e.exit, message: e.message, hint: e.hint }));
    }`;
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, HOME: '/nonexistent' },
  });
  if (r.status !== 0) throw new Error(`reading as nobody failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  if (out.read) return out;
  if (!out.recover) return new Error(`not a RecoverError: ${out.message}`);
  return new RecoverError(out.code, out.message, { hint: out.hint, exit: out.exit });
}

function expectRecover(e: unknown, code: string, exit?: string): RecoverError {
  expect(e).toBeInstanceOf(RecoverError);
  const r = e as RecoverError;
  expect(r.code, r.message).toBe(code);
  if (exit) expect(r.exit).toBe(exit);
  expect(r.message).not.toContain('\n');
  expect(r.hint).toBeTruthy();
  return r;
}

/** A seeded PRNG (mulberry32), so random cases are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Synthetic archives, every version and format
// ---------------------------------------------------------------------------------------------

describe('synthetic archives, versions 1.12 .. 1.16', () => {
  for (const version of VERSIONS) {
    for (const format of FORMATS) {
      it(`${version.slice(0, 2).join('.')} ${format}: every header field and TOC entry`, async () => {
        const a = sampleArchive(version, format);
        const bytes = writeArchive(a);
        const want = expectedInfo(a);
        expect(parseArchive(bytes, format)).toEqual(want);
        expect(await readArchiveInfo(await materialize(bytes, format))).toEqual(want);
      });
    }
  }

  it('1.14 keeps tableam but has no relkind; 1.16 has both; 1.13 neither', () => {
    const get = (v: Version) => parseArchive(writeArchive(sampleArchive(v, 'custom')), 'custom').toc.find((e) => e.dumpId === 215)!;
    expect(get([1, 13, 0])).toMatchObject({ tableam: null, relkind: null });
    expect(get([1, 14, 0])).toMatchObject({ tableam: 'heap', relkind: null });
    expect(get([1, 15, 0])).toMatchObject({ tableam: 'heap', relkind: null });
    expect(get([1, 16, 0])).toMatchObject({ tableam: 'heap', relkind: 'r' });
  });

  it('compression before 1.15 is a zlib level: 0 is none, anything else gzip', () => {
    for (const level of [0, -1, 1, 6, 9]) {
      const info = parseArchive(writeArchive(sampleArchive([1, 14, 0], 'custom', { compressionLevel: level })), 'custom');
      expect(info.compression).toEqual({ algorithm: level === 0 ? 'none' : 'gzip', level });
    }
  });

  it('compression from 1.15 on is an algorithm byte: none, gzip, lz4, zstd', () => {
    for (const [alg, name] of [
      [0, 'none'],
      [1, 'gzip'],
      [2, 'lz4'],
      [3, 'zstd'],
    ] as const) {
      for (const v of [[1, 15, 0] as const, [1, 16, 0] as const]) {
        const info = parseArchive(writeArchive(sampleArchive(v, 'custom', { compressionAlg: alg })), 'custom');
        expect(info.compression).toEqual({ algorithm: name });
      }
    }
    const e = caught(() => parseArchive(writeArchive(sampleArchive([1, 16, 0], 'custom', { compressionAlg: 4 })), 'custom'));
    expect(expectRecover(e, 'ARCHIVE_CORRUPT').message).toMatch(/compression algorithm.*found 4/);
  });

  it('a custom archive written to a pipe has no data offsets', () => {
    const a = sampleArchive([1, 14, 0], 'custom', { entries: sampleEntries('custom', true) });
    const info = parseArchive(writeArchive(a), 'custom');
    expect(info.hasDataOffsets).toBe(false);
    expect(info.toc.filter((e) => e.desc === 'TABLE DATA').map((e) => e.dataState)).toEqual(['no-offset', 'no-offset', 'no-offset']);
    expect(info.toc.find((e) => e.desc === 'TABLE DATA')!.dataOffset).toBeUndefined();
  });

  it('offsets beyond 2^53 come back as bigint, smaller ones as number', () => {
    const info = parseArchive(writeArchive(sampleArchive([1, 16, 0], 'custom')), 'custom');
    const offs = info.toc.filter((e) => e.dataState === 'offset').map((e) => e.dataOffset);
    expect(offs).toEqual([5630, 2 ** 40, 2n ** 60n + 7n]);
  });

  it('tar/directory entries without a file name have no data; hasDataOffsets needs every TABLE DATA file', () => {
    const entries = sampleEntries('tar');
    entries[4]!.file = '';
    entries[5]!.file = null;
    const info = parseArchive(writeArchive(sampleArchive([1, 14, 0], 'tar', { entries })), 'tar');
    expect(info.toc[4]).toMatchObject({ dataState: 'none' });
    expect(info.toc[4]!.dataFile).toBeUndefined();
    expect(info.toc[5]).toMatchObject({ dataState: 'none' });
    expect(info.hasDataOffsets).toBe(false);
  });

  it('reads other integer and offset sizes (intSize 8, offSize 4)', () => {
    const entries = sampleEntries('custom').map((e) => (e.offset ? { ...e, offset: { flag: 2, value: 1234n } } : e));
    const a = sampleArchive([1, 16, 0], 'custom', { intSize: 8, offSize: 4, entries });
    expect(parseArchive(writeArchive(a), 'custom')).toEqual(expectedInfo(a));
  });

  it('accepts any revision of the newest minor (1.16.x), as pg_restore does', () => {
    const info = parseArchive(writeArchive(sampleArchive([1, 16, 3], 'custom')), 'custom');
    expect(info.version).toEqual({ major: 1, minor: 16, rev: 3, text: '1.16.3' });
    expect(MAX_ARCHIVE_VERSION).toEqual({ major: 1, minor: 16, rev: 0, text: '1.16' });
  });

  it('NULL database name and versions read as empty strings; an empty TOC is fine', () => {
    const info = parseArchive(
      writeArchive(sampleArchive([1, 15, 0], 'directory', { dbname: null, serverVersion: null, dumpVersion: null, entries: [] })),
      'directory',
    );
    expect(info).toMatchObject({ database: '', serverVersion: '', pgDumpVersion: '', toc: [], hasDataOffsets: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Versions and formats refused
// ---------------------------------------------------------------------------------------------

describe('versions and formats', () => {
  it('a newer archive version is ARCHIVE_VERSION_UNKNOWN, naming it and a newer pg_restore', () => {
    for (const v of [
      [1, 17, 0],
      [1, 255, 0],
      [2, 0, 0],
    ] as const) {
      const bytes = writeArchive(sampleArchive([1, 16, 0], 'custom'));
      bytes[5] = v[0];
      bytes[6] = v[1];
      bytes[7] = v[2];
      const r = expectRecover(caught(() => parseArchive(bytes, 'custom')), 'ARCHIVE_VERSION_UNKNOWN', 'unsupported');
      expect(r.message).toContain(`found ${v[0]}.${v[1]}`);
      expect(r.message).toContain('1.16');
      expect(r.hint).toMatch(/pg_restore.*newer|newer.*pg_restore/);
    }
  });

  it('versions before 1.12 are refused as too old', () => {
    for (const minor of [0, 5, 11]) {
      const bytes = writeArchive(sampleArchive([1, 12, 0], 'custom'));
      bytes[6] = minor;
      const r = expectRecover(caught(() => parseArchive(bytes, 'custom')), 'ARCHIVE_VERSION_TOO_OLD', 'unsupported');
      expect(r.message).toContain(`1.${minor}`);
    }
  });

  it('major version 0 is corrupt', () => {
    const bytes = writeArchive(sampleArchive([1, 14, 0], 'custom'));
    bytes[5] = 0;
    expectRecover(caught(() => parseArchive(bytes, 'custom')), 'ARCHIVE_CORRUPT', 'damaged');
  });

  it('the header format byte must match the container (directory toc.dat says tar, as pg_dump writes it)', () => {
    const custom = writeArchive(sampleArchive([1, 14, 0], 'custom'));
    const r = expectRecover(caught(() => parseArchive(custom, 'tar')), 'ARCHIVE_CORRUPT');
    expect(r.message).toMatch(/expected format code 3.*found 1 \(custom\)/);
    const dir = writeArchive(sampleArchive([1, 14, 0], 'directory'));
    expect(dir[10]).toBe(3);
    expect(parseArchive(dir, 'tar').format).toBe('tar');
    expectRecover(caught(() => parseArchive(dir, 'custom')), 'ARCHIVE_CORRUPT');
  });

  it('wrong magic is corrupt and shows only the header hex', () => {
    const r = expectRecover(caught(() => parseArchive(Buffer.from('-- PostgreSQL database dump'), 'custom')), 'ARCHIVE_CORRUPT');
    expect(r.message).toContain('2d 2d 20 50');
    expect(r.message).not.toContain('PostgreSQL database');
  });
});

// ---------------------------------------------------------------------------------------------
// Damage: truncation, corruption, random bytes
// ---------------------------------------------------------------------------------------------

describe('damaged archives', () => {
  for (const version of [VERSIONS[0]!, VERSIONS[2]!, VERSIONS[4]!]) {
    for (const format of FORMATS) {
      it(`truncation at every byte of a ${version.slice(0, 2).join('.')} ${format} archive is ARCHIVE_TRUNCATED`, () => {
        const bytes = writeArchive(sampleArchive(version, format));
        for (let n = 0; n < bytes.length; n++) {
          const e = caught(() => parseArchive(bytes.subarray(0, n), format));
          if (!(e instanceof RecoverError) || e.code !== 'ARCHIVE_TRUNCATED') {
            throw new Error(`cut at ${n} of ${bytes.length}: ${String(e)} ${(e as RecoverError).code ?? ''}`);
          }
        }
        expect(parseArchive(bytes, format).toc).toHaveLength(8);
      });
    }
  }

  it('a truncated custom file is ARCHIVE_TRUNCATED from readArchiveInfo too, at every byte', async () => {
    const bytes = writeArchive(sampleArchive([1, 16, 0], 'custom'));
    const path = join(tmp, 'cut.dump');
    for (let n = 0; n < bytes.length; n++) {
      await writeFile(path, bytes.subarray(0, n));
      const e = await caughtAsync(readArchiveInfo(path));
      if (!(e instanceof RecoverError) || e.code !== 'ARCHIVE_TRUNCATED') {
        throw new Error(`cut at ${n}: ${String(e)} ${(e as RecoverError).code ?? ''}`);
      }
    }
  });

  it('a tar cut inside toc.dat, or before it, is ARCHIVE_TRUNCATED', async () => {
    const bytes = writeArchive(sampleArchive([1, 14, 0], 'tar'));
    const whole = tarFile([['toc.dat', bytes]]);
    const path = join(tmp, 'cut.tar');
    for (const n of [0, 100, 511, 512, 513, 512 + 40, 512 + bytes.length - 1]) {
      await writeFile(path, whole.subarray(0, n));
      const e = await caughtAsync(readArchiveInfo(path));
      expectRecover(e, 'ARCHIVE_TRUNCATED');
    }
  });

  it('impossible values are ARCHIVE_CORRUPT, never a crash or a huge allocation', () => {
    const at = (mut: (a: WArchive) => void, format: ArchiveFormat = 'custom') => {
      const a = sampleArchive([1, 16, 0], format);
      mut(a);
      return caught(() => parseArchive(writeArchive(a), format));
    };
    expectRecover(at((a) => (a.intSize = 9)), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.tocCount = -5)), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.entries[1]!.dumpId = 0)), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.entries[1]!.dumpId = -3)), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.entries[1]!.section = 9)), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.entries[4]!.offset = { flag: 7, value: 0n })), 'ARCHIVE_CORRUPT');
    expectRecover(at((a) => (a.entries[3]!.deps = ['215', 'x; DROP'])), 'ARCHIVE_CORRUPT');

    // A string length of -2, and one of 2^31-1 (past any file and PostgreSQL's 1 GB limit).
    const bytes = writeArchive(sampleArchive([1, 16, 0], 'custom'));
    const dbLenAt = bytes.indexOf(Buffer.from('racedb')) - 5;
    const neg = Buffer.from(bytes);
    neg.writeUInt8(1, dbLenAt);
    neg.writeUInt32LE(2, dbLenAt + 1);
    expect(expectRecover(caught(() => parseArchive(neg, 'custom')), 'ARCHIVE_CORRUPT').message).toMatch(/negative length/);
    const huge = Buffer.from(bytes);
    huge.writeUInt32LE(0x7fffffff, dbLenAt + 1);
    expectRecover(caught(() => parseArchive(huge, 'custom')), 'ARCHIVE_CORRUPT');
  });

  it('a string longer than the whole file is ARCHIVE_CORRUPT from readArchiveInfo', async () => {
    const bytes = writeArchive(sampleArchive([1, 16, 0], 'custom'));
    const tagAt = bytes.indexOf(Buffer.from('users')) - 5;
    bytes.writeUInt32LE(10_000_000, tagAt + 1);
    const path = join(tmp, 'longstr.dump');
    await writeFile(path, bytes);
    expectRecover(await caughtAsync(readArchiveInfo(path)), 'ARCHIVE_CORRUPT');
  });

  const ALLOWED = new Set(['ARCHIVE_CORRUPT', 'ARCHIVE_VERSION_UNKNOWN', 'ARCHIVE_VERSION_TOO_OLD', 'ARCHIVE_TRUNCATED']);

  it('random bytes after PGDMP fail cleanly (300 seeded cases per format)', () => {
    const rand = rng(20240501);
    const codes = new Map<string, number>();
    for (const format of FORMATS) {
      for (let i = 0; i < 300; i++) {
        const tail = Buffer.alloc(Math.floor(rand() * 400));
        for (let k = 0; k < tail.length; k++) tail[k] = Math.floor(rand() * 256);
        // Half the cases get a plausible version so the parser goes past it.
        if (i % 2 === 0 && tail.length >= 3) {
          tail[0] = 1;
          tail[1] = 12 + (i % 5);
          tail[2] = 0;
        }
        const e = caught(() => parseArchive(Buffer.concat([Buffer.from('PGDMP'), tail]), format));
        if (!(e instanceof RecoverError) || !ALLOWED.has(e.code)) throw new Error(`case ${i} ${format}: ${String(e)}`);
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    expect(codes.get('ARCHIVE_VERSION_UNKNOWN')).toBeGreaterThan(0);
    expect(codes.get('ARCHIVE_CORRUPT')).toBeGreaterThan(0);
  });

  it('a valid header followed by random TOC bytes parses or fails cleanly (300 seeded cases)', () => {
    const rand = rng(7);
    for (let i = 0; i < 300; i++) {
      const version = VERSIONS[i % VERSIONS.length]!;
      const format = FORMATS[i % 3]!;
      const header = writeArchive(sampleArchive(version, format, { entries: [], tocCount: 0 }));
      const body = header.subarray(0, header.length - 5); // drop the TOC count
      const tail = Buffer.alloc(Math.floor(rand() * 600));
      for (let k = 0; k < tail.length; k++) tail[k] = rand() < 0.6 ? 0 : Math.floor(rand() * 256);
      try {
        parseArchive(Buffer.concat([body, tail]), format); // a few random TOCs are valid (e.g. empty)
      } catch (e) {
        if (!(e instanceof RecoverError) || !ALLOWED.has(e.code)) throw new Error(`case ${i}: ${String(e)}`, { cause: e });
      }
    }
  });

  it('random single-byte damage to a valid archive either parses or fails with a RecoverError (500 cases)', () => {
    const rand = rng(99);
    const good = writeArchive(sampleArchive([1, 16, 0], 'custom'));
    for (let i = 0; i < 500; i++) {
      const bad = Buffer.from(good);
      bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      try {
        parseArchive(bad, 'custom');
      } catch (e) {
        if (!(e instanceof RecoverError) || !ALLOWED.has(e.code)) throw new Error(`case ${i}: ${String(e)}`, { cause: e });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// readArchiveInfo: containers, paths, streaming
// ---------------------------------------------------------------------------------------------

describe('readArchiveInfo', () => {
  it('reads a TOC larger than the first 64 KiB read, from a sparse 8 GiB file, without reading it whole', async () => {
    const entries = sampleEntries('custom');
    entries[1]!.defn = 'x'.repeat(150_000); // straddles the first read and a doubling
    entries.push({ ...entries[7]!, dumpId: 4000, defn: 'y'.repeat(70_000) });
    const a = sampleArchive([1, 16, 0], 'custom', { entries });
    const bytes = writeArchive(a);
    const path = join(tmp, 'big.dump');
    await writeFile(path, bytes);
    await truncate(path, 8 * 1024 ** 3); // more than a Buffer can hold: reading it whole would throw
    expect(await readArchiveInfo(path)).toEqual(expectedInfo(a));
  });

  it('finds toc.dat in a tar even when it is not the first member', async () => {
    const a = sampleArchive([1, 15, 0], 'tar');
    const path = join(tmp, 'late.tar');
    await writeFile(path, tarFile([['README', Buffer.from('x'.repeat(700))], ['toc.dat', writeArchive(a)]]));
    expect(await readArchiveInfo(path)).toEqual(expectedInfo(a));
  });

  it('a tar with a bad header checksum, or without toc.dat, is corrupt', async () => {
    const bytes = writeArchive(sampleArchive([1, 15, 0], 'tar'));
    const noToc = join(tmp, 'notoc.tar');
    await writeFile(noToc, tarFile([['3362.dat', Buffer.from('data')]]));
    expect(expectRecover(await caughtAsync(readArchiveInfo(noToc)), 'ARCHIVE_CORRUPT').message).toContain('toc.dat');
    const badSum = tarFile([['other', Buffer.from('zz')], ['toc.dat', bytes]]);
    badSum.writeUInt8(badSum.readUInt8(1024 + 5) ^ 0x40, 1024 + 5); // damage the second header's name
    const bad = join(tmp, 'badsum.tar');
    await writeFile(bad, badSum);
    expectRecover(await caughtAsync(readArchiveInfo(bad)), 'ARCHIVE_CORRUPT');
  });

  it('a directory needs toc.dat; a compressed one is refused with a hint', async () => {
    const dir = join(tmp, 'emptydir');
    await mkdir(dir);
    expectRecover(await caughtAsync(readArchiveInfo(dir)), 'ARCHIVE_CORRUPT');
    await writeFile(join(dir, 'toc.dat.gz'), 'x');
    const r = expectRecover(await caughtAsync(readArchiveInfo(dir)), 'ARCHIVE_TOC_COMPRESSED', 'unsupported');
    expect(r.hint).toMatch(/gunzip/);
  });

  it('a missing path, an empty file and a non-archive file fail with RecoverErrors', async () => {
    expectRecover(await caughtAsync(readArchiveInfo(join(tmp, 'nope.dump'))), 'BACKUP_NOT_FOUND');
    const empty = join(tmp, 'empty.dump');
    await writeFile(empty, '');
    expectRecover(await caughtAsync(readArchiveInfo(empty)), 'ARCHIVE_TRUNCATED');
    const sql = join(tmp, 'plain.sql');
    await writeFile(sql, '--\n-- PostgreSQL database dump\n--\n'.repeat(40));
    const r = expectRecover(await caughtAsync(readArchiveInfo(sql)), 'ARCHIVE_CORRUPT');
    expect(r.message).not.toContain('PostgreSQL database dump');
  });

  it('an unreadable file is BACKUP_UNREADABLE (as root, read by an unprivileged user)', async (ctx) => {
    const asRoot = userInfo().uid === 0;
    if (asRoot && !haveSetpriv) ctx.skip('running as root, which reads any file, and no setpriv here to read it as an unprivileged user');
    // A folder the unprivileged user may enter, so that only the file's own mode stands in the way.
    const dir = await mkdtemp(join(tmpdir(), 'archive-header-unreadable-'));
    try {
      await chmod(dir, 0o755);
      const path = join(dir, 'secret.dump');
      await writeFile(path, writeArchive(sampleArchive([1, 16, 0], 'custom')));
      if (asRoot) expect(readArchiveInfoAsNobody(path)).toEqual({ read: true }); // readable, that user reads it
      await chmod(path, 0o000);
      expectRecover(asRoot ? readArchiveInfoAsNobody(path) : await caughtAsync(readArchiveInfo(path)), 'BACKUP_UNREADABLE');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real archives, compared with pg_restore -l
// ---------------------------------------------------------------------------------------------

type RealKind = 'custom' | 'custom-piped' | 'tar' | 'directory';
const REAL_FILES: Record<RealKind, string> = {
  custom: 'custom.dump',
  'custom-piped': 'custom-piped.dump',
  tar: 'tar.tar',
  directory: 'directory',
};
const FIXTURE_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'generated', 'current');
const MANIFEST = resolve(import.meta.dirname, '..', 'fixtures', 'generated', 'manifest.json');
const missingFixtures = [MANIFEST, ...Object.values(REAL_FILES).map((f) => join(FIXTURE_DIR, f))].filter((p) => !existsSync(p));
const haveFixtures = missingFixtures.length === 0;

/** The bin directory of a server install matching /usr/bin/pg_dump (Debian keeps initdb there). */
function findPgBin(): string | null {
  if (!existsSync('/usr/bin/pg_dump')) return null;
  const out = spawnSync('/usr/bin/pg_dump', ['--version'], { encoding: 'utf8' });
  const major = /\b(\d+)(?:\.\d+)?/.exec(out.stdout ?? '')?.[1];
  const candidates = [major ? `/usr/lib/postgresql/${major}/bin` : '', ...listDir('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`)];
  for (const c of candidates) if (c && existsSync(join(c, 'initdb')) && existsSync(join(c, 'pg_ctl'))) return c;
  try {
    const dir = realpathSync('/usr/bin/pg_dump').replace(/\/pg_dump$/, '');
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    /* not there */
  }
  return null;
}
function listDir(p: string): string[] {
  try {
    return readdirSync(p).sort().reverse();
  } catch {
    return [];
  }
}

/** initdb refuses to run as root; then the cluster runs as the postgres user, if there is one. */
const canRunCluster = userInfo().uid !== 0 || spawnSync('id', ['-u', 'postgres']).status === 0;
const pgBin = haveFixtures || !canRunCluster ? null : findPgBin();
const realSource = haveFixtures ? 'fixtures/generated/current' : pgBin ? `a throwaway cluster (${pgBin})` : null;
const realSkipReason = haveFixtures
  ? ''
  : `missing ${missingFixtures.map((p) => p.replace(resolve(import.meta.dirname, '..') + '/', '')).join(', ')} and no /usr/bin/pg_dump with initdb (and a non-root user) to make them`;

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; asUser?: string } = {}): string {
  const [c, a] = opts.asUser ? ['runuser', ['-u', opts.asUser, '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { encoding: 'utf8', env: { ...process.env, ...opts.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

describe.skipIf(realSource === null)(`real archives from ${realSource ?? `nowhere: ${realSkipReason}`}`, () => {
  const paths = {} as Record<RealKind, string>;
  let stopCluster: (() => void) | null = null;

  beforeAll(async () => {
    if (haveFixtures) {
      for (const k of Object.keys(REAL_FILES) as RealKind[]) paths[k] = join(FIXTURE_DIR, REAL_FILES[k]);
      return;
    }
    const bin = pgBin!;
    const dir = await mkdtemp(join(tmpdir(), 'archive-pg-'));
    const asUser = userInfo().uid === 0 ? 'postgres' : undefined; // initdb refuses to run as root
    if (asUser) await chown(dir, Number(run('id', ['-u', asUser]).trim()), Number(run('id', ['-g', asUser]).trim()));
    const data = join(dir, 'data');
    const port = String(20000 + Math.floor(Math.random() * 20000));
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], { asUser });
    run(join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=''`, 'start'], {
      asUser,
    });
    stopCluster = () => {
      spawnSync(asUser ? 'runuser' : join(bin, 'pg_ctl'), asUser ? ['-u', asUser, '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop']);
      spawnSync('rm', ['-rf', dir]);
    };
    const conn = ['-h', dir, '-p', port, '-U', 'postgres'];
    run(join(bin, 'psql'), [...conn, '-q', '-c', 'CREATE DATABASE racedb']);
    run(join(bin, 'psql'), [
      ...conn,
      '-d',
      'racedb',
      '-q',
      '-c',
      `CREATE TABLE users (id serial PRIMARY KEY, username text NOT NULL);
       CREATE TABLE tasktexts (id serial PRIMARY KEY, user_id int REFERENCES users(id), text text, modified timestamptz DEFAULT now());
       CREATE TABLE "tâches élève" (x int);
       CREATE VIEW v AS SELECT * FROM users;
       INSERT INTO users (username) VALUES ('alice'), ('bob');
       INSERT INTO tasktexts (user_id, text) VALUES (1, 'secret text'), (2, 'other');`,
    ]);
    const out = join(dir, 'dumps');
    await mkdir(out);
    const env = { TZ: 'UTC' };
    const dump = (args: string[]) => run('/usr/bin/pg_dump', [...conn, ...args, 'racedb'], { env });
    paths.custom = join(out, REAL_FILES.custom);
    dump(['-Fc', '-f', paths.custom]);
    paths.tar = join(out, REAL_FILES.tar);
    dump(['-Ft', '-f', paths.tar]);
    paths.directory = join(out, REAL_FILES.directory);
    dump(['-Fd', '-f', paths.directory]);
    paths['custom-piped'] = join(out, REAL_FILES['custom-piped']);
    await new Promise<void>((res, rej) => {
      const p = spawn('/usr/bin/pg_dump', [...conn, '-Fc', 'racedb'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
      const ws = createWriteStream(paths['custom-piped']);
      p.stdout.pipe(ws);
      p.on('error', rej);
      ws.on('finish', () => (p.exitCode === 0 || p.exitCode === null ? res() : rej(new Error(`pg_dump exited ${p.exitCode}`))));
    });
  }, 120_000);

  afterAll(() => stopCluster?.());

  /** pg_restore -l, or why there is none: no pg_restore here, or one that cannot read that archive version. */
  function pgRestoreList(path: string): { list: string } | { none: string } {
    const r = spawnSync('pg_restore', ['-l', path], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { none: 'no pg_restore on PATH to compare with' };
    if (r.error || r.status !== 0) {
      if (/unsupported version/.test(String(r.stderr))) {
        const version = spawnSync('pg_restore', ['--version'], { encoding: 'utf8' }).stdout.trim();
        return { none: `${version} cannot read this archive (${String(r.stderr).trim().split('\n')[0]})` };
      }
      throw new Error(`pg_restore -l ${path}: ${r.stderr}`);
    }
    return { list: r.stdout };
  }

  const header = (list: string, key: string) => new RegExp(`^;\\s+${key}:? (.*)$`, 'm').exec(list)?.[1];
  const sanitize = (s: string) => s.replace(/[\r\n]/g, ' ');
  const pad = (n: number) => String(n).padStart(2, '0');

  for (const kind of Object.keys(REAL_FILES) as RealKind[]) {
    it(`${kind}: format, version, where the data is, and no row data`, async () => {
      const info = await readArchiveInfo(paths[kind]);
      expect(info.format).toBe(kind === 'custom-piped' ? 'custom' : kind);
      expect(info.version.major).toBe(1);
      expect(info.version.minor).toBeGreaterThanOrEqual(12);
      if (kind === 'custom') expect(info.hasDataOffsets).toBe(true);
      if (kind === 'custom-piped') {
        expect(info.hasDataOffsets).toBe(false);
        expect(info.toc.some((e) => e.dataState === 'no-offset')).toBe(true);
      }
      if (kind === 'tar' || kind === 'directory') expect(info.toc.filter((e) => e.desc === 'TABLE DATA').every((e) => e.dataFile)).toBe(true);
      // Nothing of the row data is in what we return.
      expect(JSON.stringify(info, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('secret text');
    });

    it(`${kind}: header and TOC agree with pg_restore -l`, async (ctx) => {
      const listed = pgRestoreList(paths[kind]);
      if ('none' in listed) return ctx.skip(listed.none);
      const list = listed.list;
      const info = await readArchiveInfo(paths[kind]);
      const d = info.dumpedAt;
      expect(header(list, 'Archive created at')).toBe(
        `${d.year}-${pad(d.month)}-${pad(d.day)} ${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)} UTC`,
      );
      expect(header(list, 'dbname')).toBe(info.database);
      expect(header(list, 'TOC Entries')).toBe(String(info.toc.length));
      const comp = header(list, 'Compression')!;
      // pg_restore before 16 prints the level, later ones the algorithm's name.
      if (/^-?\d+$/.test(comp)) expect(Number(comp)).toBe(info.compression.level);
      else expect(comp).toBe(info.compression.algorithm);
      expect(header(list, 'Dump Version')).toBe(`${info.version.major}.${info.version.minor}-${info.version.rev}`);
      expect(header(list, 'Format')).toBe(info.format.toUpperCase());
      expect(header(list, 'Integer')).toBe(`${info.intSize} bytes`);
      expect(header(list, 'Offset')).toBe(`${info.offSize} bytes`);
      expect(header(list, 'Dumped from database version')).toBe(info.serverVersion);
      expect(header(list, 'Dumped by pg_dump version')).toBe(info.pgDumpVersion);

      // Every listed entry, in order, exactly as pg_restore prints it.
      const lines = list.split('\n').filter((l) => /^\d+;/.test(l));
      const byId = new Map(info.toc.map((e) => [e.dumpId, e]));
      const ids = lines.map((l) => Number(l.slice(0, l.indexOf(';'))));
      for (const [i, line] of lines.entries()) {
        const e = byId.get(ids[i]!);
        expect(e, line).toBeDefined();
        expect(line).toBe(`${e!.dumpId}; ${e!.tableOid} ${e!.oid} ${e!.desc} ${sanitize(e!.namespace) || '-'} ${sanitize(e!.tag)} ${sanitize(e!.owner)}`);
      }
      const order = info.toc.map((e) => e.dumpId).filter((id) => ids.includes(id));
      expect(order).toEqual(ids);
      // pg_restore -l leaves out only the special entries and the database's own.
      const unlisted = info.toc.filter((e) => !ids.includes(e.dumpId));
      for (const e of unlisted) {
        const special = ['ENCODING', 'STDSTRINGS', 'SEARCHPATH', 'DATABASE', 'DATABASE PROPERTIES'].includes(e.desc);
        const ofDatabase = ['COMMENT', 'ACL', 'SECURITY LABEL'].includes(e.desc) && e.tag.startsWith('DATABASE ');
        expect(special || ofDatabase, `${e.desc} ${e.tag}`).toBe(true);
      }
      if (!haveFixtures) expect(info.toc.find((e) => e.desc === 'TABLE' && e.tag === 'tâches élève')).toBeDefined();
    });
  }

  it('only the beginning of the file is read: the same TOC comes from a copy with 8 GiB appended', async () => {
    const copy = join(tmp, 'real-big.dump');
    await writeFile(copy, await readFile(paths.custom));
    const fh = await open(copy, 'r+');
    await fh.truncate(8 * 1024 ** 3);
    await fh.close();
    const [a, b] = [await readArchiveInfo(paths.custom), await readArchiveInfo(copy)];
    expect(b.toc).toEqual(a.toc);
  });
});
