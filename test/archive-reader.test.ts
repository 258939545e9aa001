/**
 * The native archive reader (src/archive): every version, format and compression gives the
 * same SQL as the fixture's own archive; decoders and chunking at every byte boundary; damage
 * of every kind (fast-check: bit flips, truncation at every offset, lying lengths and offsets)
 * is a clean RecoverError, never a crash, hang or different output; compression bombs stream
 * with bounded memory; the stream contract; and end to end through PostgreSQL, the exact
 * expected JSON from archives this machine's pg_dump cannot make (1.15, lz4, zstd).
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflate } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchiveData, readArchiveInfo, readArchiveSql } from '../src/archive/index.js';
import { Lz4FrameDecoder } from '../src/archive/lz4.js';
import { ZstdDecoder } from '../src/archive/zstd.js';
import { RecoverError } from '../src/errors.js';
import { WANTED_TABLES } from '../src/filter/index.js';
import { renderJson } from '../src/export/index.js';
import { restoreList } from '../src/source/index.js';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { compress, customArchive, dataBlock, directoryArchive, fixtureEntries, HAVE, statisticsData, tarArchive, VERSIONS, type WEntry, type WriteOptions } from './archive-writer.js';
import { FIXTURES, makeTmp, removeTmp } from './helpers.js';
import { Scope } from '../src/scope.js';

const CURRENT = join(FIXTURES, 'generated', 'current');
const TABLES = { tables: WANTED_TABLES };
let work: string;
let entries: WEntry[];
/** The SQL the reader gives for the fixture's own (pg_dump 15) custom archive. */
let reference: string;

async function sqlOf(path: string): Promise<string> {
  const info = await readArchiveInfo(path);
  await checkArchiveData(path, info);
  const parts: Buffer[] = [];
  for await (const c of readArchiveSql(path, info, TABLES)) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The result of reading: the SQL, or the error (which must be a RecoverError). */
async function outcome(path: string): Promise<{ sql?: string; error?: RecoverError }> {
  try {
    return { sql: await sqlOf(path) };
  } catch (e) {
    if (!(e instanceof RecoverError)) throw new Error(`expected a RecoverError, got ${String(e)}`, { cause: e });
    expect(['damaged', 'unsupported', 'badBackup']).toContain(e.exit);
    expect(e.message).not.toContain('\n');
    return { error: e };
  }
}

let seq = 0;
function write(kind: 'custom' | 'piped' | 'directory' | 'tar', es: WEntry[], o: WriteOptions): string {
  const path = join(work, `w${seq++}-${kind}`);
  if (kind === 'directory') directoryArchive(path, es, o);
  else writeFileSync(path, kind === 'tar' ? tarArchive(es, o) : customArchive(es, { ...o, piped: kind === 'piped' }));
  return path;
}

/** An unwanted table whose stored data is garbage: reading it would fail, so it is never read. */
function poisoned(): WEntry {
  return {
    dumpId: 9001,
    desc: 'TABLE DATA',
    namespace: 'public',
    tag: 'db_files',
    owner: 'buggy',
    hadDumper: true,
    dependencies: [],
    tableOid: 0,
    oid: 99999,
    section: 'data',
    tablespace: null,
    tableam: null,
    relkind: null,
    defn: null,
    copyStmt: 'COPY public.db_files (id) FROM stdin;\n',
    rawStored: Buffer.from('this is not compressed data of any kind'.repeat(50)),
  };
}

beforeAll(async () => {
  work = makeTmp('reader');
  ({ entries } = await fixtureEntries(join(CURRENT, 'directory')));
  // The poisoned table goes before the wanted ones, so a sequential walk must skip it.
  entries = [...entries.filter((e) => !e.data), poisoned(), ...entries.filter((e) => e.data)];
  reference = await sqlOf(join(CURRENT, 'custom.dump'));
  expect(reference).toContain('COPY public.tasktexts');
});
afterAll(() => removeTmp(work));


describe('every version, format and compression reads as the fixture does', () => {
  for (const version of VERSIONS) {
    const modern = version[1] >= 15;
    for (const compression of ['none', 'gzip', 'lz4', 'zstd'] as const) {
      if (!modern && (compression === 'lz4' || compression === 'zstd')) continue;
      for (const kind of ['custom', 'piped', 'directory', 'tar'] as const) {
        if (kind === 'tar' && compression !== 'none') continue;
        it(`${version.slice(0, 2).join('.')} ${kind} ${compression}`, (ctx) => {
          if ((compression === 'lz4' || compression === 'zstd') && !HAVE[compression]) ctx.skip(`no ${compression} program here to make ${compression} data`);
          const o = { version, compression, chunk: 1 + ((seq * 977) % 5000) };
          return sqlOf(write(kind, entries, o)).then((sql) => expect(sql).toBe(reference));
        });
      }
    }
  }

  it('chunks cut at every size from 1 byte read the same (one decompressor per table, not per chunk)', async (ctx) => {
    for (const compression of ['gzip', 'lz4', 'zstd'] as const) {
      if (compression !== 'gzip' && !HAVE[compression]) ctx.skip(`no ${compression} program here`);
      for (const chunk of [1, 2, 3, 7, 64, 1000]) {
        expect(await sqlOf(write('custom', entries, { version: [1, 16, 0], compression, chunk }))).toBe(reference);
      }
    }
  });
});

describe("pg_dump 18's STATISTICS DATA entries carry the table's tag and are never read as its data", () => {
  /** A hostile one carries data that is not even compressed: reading it would fail. */
  const stats = (e: WEntry, n: number, section: 'data' | 'post-data', poisonedData: boolean): WEntry => {
    const st = statisticsData(e, 20000 + n, section);
    return poisonedData ? { ...st, hadDumper: true, rawStored: Buffer.from('not data of any table '.repeat(40)) } : st;
  };
  /** Each table's STATISTICS DATA right after its TABLE DATA (section data), and more at the end (post-data), one of them with data. */
  function withStats(): WEntry[] {
    const out: WEntry[] = [];
    let n = 0;
    for (const e of entries) {
      out.push(e);
      if (e.desc === 'TABLE DATA') out.push(stats(e, n++, 'data', false));
    }
    for (const e of entries.filter((x) => x.desc === 'TABLE DATA')) out.push(stats(e, n++, 'post-data', e.tag === 'tasktexts'));
    return out;
  }

  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    for (const kind of ['custom', 'piped', 'directory', 'tar'] as const) {
      if (kind === 'tar' && compression !== 'none') continue;
      it(`${kind} ${compression}: the SQL read is exactly the same as without them`, async (ctx) => {
        if (compression === 'zstd' && !HAVE.zstd) ctx.skip('no zstd program here to make zstd data');
        const es = withStats();
        expect(es.filter((e) => e.desc === 'STATISTICS DATA' && e.tag === 'tasktexts')).toHaveLength(2);
        const o = { version: [1, 16, 0] as const, compression };
        const path = write(kind, es, o);
        expect((await readArchiveInfo(path)).toc.filter((e) => e.desc === 'STATISTICS DATA')).toHaveLength(es.length - entries.length);
        expect(await sqlOf(path)).toBe(await sqlOf(write(kind, entries, o)));
      });
    }
  }

  it("--pg-restore's TOC list names only the tables' TABLE and TABLE DATA entries", async () => {
    const with_ = await readArchiveInfo(write('custom', withStats(), { version: [1, 16, 0], compression: 'gzip' }));
    const without = await readArchiveInfo(write('custom', entries, { version: [1, 16, 0], compression: 'gzip' }));
    expect(restoreList(with_)).toBe(restoreList(without));
    expect(restoreList(with_)).not.toContain('STATISTICS');
  });
});

describe('decoders with input split at every byte boundary', () => {
  const sample = () => entries.find((e) => e.tag === 'tasktexts' && e.data)!.data!.subarray(0, 6000);
  for (const alg of ['lz4', 'zstd'] as const) {
    it(`${alg}: two pieces split at every byte, and random many-piece splits`, (ctx) => {
      if (!HAVE[alg]) ctx.skip(`no ${alg} program here to make ${alg} data`);
      const plain = sample();
      const packed = compress(plain, alg, 'file');
      const decode = (pieces: Buffer[]) => {
        const d = alg === 'lz4' ? new Lz4FrameDecoder('t') : new ZstdDecoder('t');
        const out = pieces.flatMap((p) => [...d.push(p)]);
        d.end();
        return Buffer.concat(out);
      };
      for (let k = 0; k <= packed.length; k++) expect(decode([packed.subarray(0, k), packed.subarray(k)]).equals(plain), `split at ${k}`).toBe(true);
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: packed.length - 1 }), { maxLength: 40 }), (cuts) => {
          const at = [0, ...cuts.sort((a, b) => a - b), packed.length];
          expect(decode(at.slice(1).map((end, i) => packed.subarray(at[i], end))).equals(plain)).toBe(true);
        }),
        { numRuns: 200, seed: 42 },
      );
      // Cut short anywhere: a clean error, never a partial success.
      for (let k = 0; k < packed.length; k += 97) expect(() => decode([packed.subarray(0, k)])).toThrow(RecoverError);
    });
  }
});

describe('zstd frames of every size, with and without checksum (pg_dump 16+ writes none)', () => {
  const decodeAll = (packed: Buffer, step: number) => {
    const d = new ZstdDecoder('t');
    const out: Buffer[] = [];
    for (let i = 0; i < packed.length; i += step) out.push(...d.push(packed.subarray(i, i + step)));
    d.end();
    return Buffer.concat(out);
  };
  it('tiny frames (an empty table is "\\.\\n\\n", about 14 bytes) decode whole, fed in any pieces', (ctx) => {
    if (!HAVE.zstd) ctx.skip('no zstd program here to make zstd data');
    const plains = ['', '\\.\n\n', '1\tx\n\\.\n\n', 'a'.repeat(17), 'b'.repeat(200), entries.find((e) => e.tag === 'users' && e.data)!.data!.toString('latin1')];
    for (const plain of plains) {
      const data = Buffer.from(plain, 'latin1');
      for (const flags of [['--no-check'], ['--check'], ['--no-check', '--no-content-size'], ['--check', '--no-content-size']]) {
        const packed = execFileSync('zstd', ['-q', '-c', ...flags], { input: data });
        for (const step of [1, 2, 5, 13, packed.length]) {
          expect(decodeAll(packed, step).equals(data), `${plain.length} bytes, ${flags.join(' ')}, pieces of ${step}`).toBe(true);
        }
        // Two frames back to back (each ends its own decoder).
        expect(decodeAll(Buffer.concat([packed, packed]), 3).equals(Buffer.concat([data, data]))).toBe(true);
      }
    }
  });

  it('a frame whose content is shorter than its header says is damage, not a short table', (ctx) => {
    if (!HAVE.zstd) ctx.skip('no zstd program here to make zstd data');
    const file = join(work, 'empty-table.dat');
    writeFileSync(file, '\\.\n\n');
    // From a file, zstd knows the size: a single-segment frame, descriptor then a 1-byte content size. Claim 5 bytes instead of 4.
    const packed = execFileSync('zstd', ['-q', '-c', '--no-check', file]);
    expect(packed[4]! & 0x20).toBe(0x20);
    packed[5] = 5;
    expect(() => decodeAll(packed, 1)).toThrow(RecoverError);
  });

  it('an empty wanted table in every format (custom, piped, directory) keeps every other table: the same SQL as uncompressed', async (ctx) => {
    if (!HAVE.zstd) ctx.skip('no zstd program here to make zstd data');
    // A race server whose admin never saved a setting: its settings table is empty.
    const empty = entries.map((e) => (e.tag === 'settings' && e.data ? { ...e, data: Buffer.from('\\.\n\n\n') } : e));
    expect(empty.some((e) => e.tag === 'settings' && e.data)).toBe(true);
    const plain = await sqlOf(write('custom', empty, { version: [1, 16, 0], compression: 'none' }));
    expect(plain).toContain('COPY public.tasks ');
    expect(plain).toContain('COPY public.tasktexts ');
    for (const kind of ['custom', 'piped', 'directory'] as const) {
      expect(await sqlOf(write(kind, empty, { version: [1, 16, 0], compression: 'zstd' })), kind).toBe(plain);
    }
  });
});

/**
 * SQL as the filter reads it: the lines outside COPY data (each COPY statement among them, in
 * place), and each COPY block's statement and rows. A block that loses its end line (a
 * backslash and a period) swallows the rest, so its rows are all that follows.
 */
function shapeOf(sql: string): { outside: string[]; copies: { stmt: string; rows: string[] }[] } {
  const outside: string[] = [];
  const copies: { stmt: string; rows: string[] }[] = [];
  let copy: { stmt: string; rows: string[] } | null = null;
  for (const line of sql.split('\n')) {
    if (copy) {
      if (line === '\\.') copy = null;
      else copy.rows.push(line);
    } else {
      outside.push(line);
      if (/^COPY \S+ .*FROM stdin;$/.test(line)) copies.push((copy = { stmt: line, rows: [] }));
    }
  }
  return { outside, copies };
}

/**
 * Where each table's stored data lies in a custom archive written by customArchive (its blocks
 * follow the TOC, in entry order): for each byte of a chunk's payload (not the block header,
 * nor a chunk length), the COPY statement of its table. The layout is checked against the file.
 */
function storedDataOwners(bytes: Buffer, es: WEntry[], compression: WriteOptions['compression'], chunk: number): (string | undefined)[] {
  const blocks = es.filter((e) => e.data !== undefined || e.rawStored !== undefined).map((e) => ({ e, block: dataBlock(e.dumpId, e.rawStored ?? compress(e.data!, compression, 'custom'), chunk) }));
  const start = bytes.length - blocks.reduce((n, b) => n + b.block.length, 0);
  expect(bytes.subarray(start)).toEqual(Buffer.concat(blocks.map((b) => b.block)));
  const owners: (string | undefined)[] = new Array(bytes.length).fill(undefined);
  let at = start;
  for (const { e, block } of blocks) {
    const stmt = e.copyStmt!.trimEnd();
    // Block type (1 byte) and dump ID (an int: 5 bytes), then chunks: an int length and the payload, then a zero length.
    for (let p = at + 6; p < at + block.length - 5; ) {
      const len = bytes.readUInt32LE(p + 1);
      owners.fill(stmt, p + 5, p + 5 + len);
      p += 5 + len;
    }
    at += block.length;
  }
  return owners;
}

describe('damaged archives: a clean error or the exact same SQL, never a crash, a hang or other SQL', () => {
  /** A small archive: settings, two wanted tables with their first rows, the poisoned one, so every offset can be tried. */
  const small = (): WEntry[] =>
    entries
      .filter((e) => ['ENCODING', 'STDSTRINGS'].includes(e.desc) || ['users', 'settings', 'tasktexts', 'db_files'].includes(e.tag))
      .filter((e) => ['ENCODING', 'STDSTRINGS', 'TABLE', 'TABLE DATA'].includes(e.desc))
      // settings is empty (its data only the end line: pg_dump 16+'s tiny frames, with no checksum in zstd).
      .map((e) => (e.data ? { ...e, data: Buffer.from((e.tag === 'settings' ? '' : e.data.toString('utf8').split('\n').slice(0, 3).join('\n') + '\n') + '\\.\n\n\n') } : e));

  for (const compression of ['none', 'gzip', 'lz4', 'zstd'] as const) {
    for (const kind of ['custom', 'piped'] as const) {
      it(`${kind} ${compression}: truncation at every offset, bit flips, lying lengths and offsets`, async (ctx) => {
        if (compression !== 'none' && compression !== 'gzip' && !HAVE[compression]) ctx.skip(`no ${compression} program here`);
        const good = write(kind, small(), { version: [1, 16, 0], compression, chunk: 50 });
        const bytes = readFileSync(good);
        const whole = await sqlOf(good);
        const cut = join(work, `cut-${kind}-${compression}`);
        for (let n = 0; n < bytes.length; n++) {
          writeFileSync(cut, bytes.subarray(0, n));
          const r = await outcome(cut);
          if (r.sql !== undefined) expect(r.sql, `cut at ${n}`).toBe(whole);
        }
        const bad = join(work, `bad-${kind}-${compression}`);
        // Data with nothing to check it by (uncompressed; lz4 and zstd as pg_dump writes them, without
        // checksums) may read as other rows of its own table; zlib's checksum leaves gzip no such room.
        const unchecked = compression !== 'gzip';
        const owners = storedDataOwners(bytes, small(), compression, 50);
        const shape = shapeOf(whole);
        let errors = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              // A flipped bit anywhere.
              fc.record({ kind: fc.constant('flip' as const), at: fc.nat(bytes.length - 1), bit: fc.nat(7) }),
              // A 4-byte little-endian value (a length, an offset, a dump ID) overwritten with a lie.
              fc.record({ kind: fc.constant('lie' as const), at: fc.nat(bytes.length - 4), value: fc.oneof(fc.constant(0x7fffffff), fc.constant(0), fc.nat()) }),
            ),
            async (m) => {
              const b = Buffer.from(bytes);
              if (m.kind === 'flip') b[m.at] = (b[m.at] as number) ^ (1 << m.bit);
              else b.writeUInt32LE(m.value >>> 0, m.at);
              writeFileSync(bad, b);
              const r = await outcome(bad);
              if (r.error) {
                errors++;
                return;
              }
              if (r.sql === whole) return;
              // Other SQL: never other COPY statements, and never other rows, but where unchecked stored
              // data of one table was changed, in that table's rows. A change inside the TOC's text
              // (a CREATE TABLE has no checksum, for pg_restore either) may change that statement's
              // text, never the rows; the reader checks it is still one statement for its table.
              const width = m.kind === 'flip' ? 1 : 4;
              const span = owners.slice(m.at, m.at + width);
              const inData = span.some((o) => o !== undefined);
              const table = owners[m.at];
              const within = unchecked && table !== undefined && span.every((o) => o === table);
              if (inData) expect(within, `${JSON.stringify(m)} changed the SQL outside the stored data of one table (${compression})`).toBe(true);
              const got = shapeOf(r.sql!);
              if (inData) {
                expect(got.outside, `${JSON.stringify(m)}: the statements around the rows`).toEqual(shape.outside);
                expect(got.copies.map((c) => c.stmt), `${JSON.stringify(m)}: the COPY statements`).toEqual(shape.copies.map((c) => c.stmt));
              } else {
                // A TOC entry whose tag or kind was changed is no longer a wanted table's: its data drops
                // out (the load then misses that table, and says so), never another table's comes in.
                // Unquoted names fold to lower case, for pg_restore as for the filter: `Public.tasktexts` is public.tasktexts.
                const original = shape.copies.map((c) => c.stmt.toLowerCase());
                let from = 0;
                for (const c of got.copies) {
                  from = original.indexOf(c.stmt.toLowerCase(), from) + 1;
                  expect(from, `${JSON.stringify(m)}: ${c.stmt} is one of the archive's COPY statements, in order`).toBeGreaterThan(0);
                }
              }
              for (const c of got.copies) {
                const was = shape.copies.find((o) => o.stmt.toLowerCase() === c.stmt.toLowerCase())!;
                if (!within || was.stmt !== table) expect(c.rows, `${JSON.stringify(m)}: rows of ${c.stmt}`).toEqual(was.rows);
              }
            },
          ),
          { numRuns: 150, seed: 7 },
        );
        expect(errors).toBeGreaterThan(0);
        // Thousands of reads: about a minute each on a quiet 2-core machine, several on a busy one.
      }, 600_000);
    }
  }

  it('a data offset that points into the TOC, past the end, or at another block is damage', async () => {
    const info = await readArchiveInfo(join(CURRENT, 'custom.dump'));
    const users = info.toc.find((e) => e.desc === 'TABLE DATA' && e.tag === 'users')!;
    const other = info.toc.find((e) => e.desc === 'TABLE DATA' && e.tag === 'tasks')!;
    const bytes = readFileSync(join(CURRENT, 'custom.dump'));
    // The offset is written as flag 2 then 8 bytes; find it by value after the entry's COPY statement.
    const flagAt = bytes.indexOf(Buffer.concat([Buffer.from([2]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(Number(users.dataOffset))); return b; })()]));
    expect(flagAt).toBeGreaterThan(0);
    for (const lie of [100, bytes.length + 10, Number(other.dataOffset)]) {
      const b = Buffer.from(bytes);
      b.writeBigUInt64LE(BigInt(lie), flagAt + 1);
      const path = join(work, `lie-${lie}.dump`);
      writeFileSync(path, b);
      const r = await outcome(path);
      expect(r.error?.code, `offset ${lie}`).toMatch(/ARCHIVE_(CORRUPT|TRUNCATED)/);
    }
  });

  it('a directory missing a data file, and a tar missing a member, are damage', async () => {
    const dir = write('directory', entries, { version: [1, 16, 0], compression: 'zstd' in HAVE && HAVE.zstd ? 'zstd' : 'gzip' });
    const users = entries.find((e) => e.tag === 'users' && e.data)!;
    const name = readdirSync(dir).find((f) => f.startsWith(`${users.dumpId}.dat`))!;
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, name));
    expect((await outcome(dir)).error?.code).toBe('ARCHIVE_TRUNCATED');
    const noMember = entries.map((e) => (e === users ? { ...e, data: undefined } : e));
    const tar = write('tar', noMember, { version: [1, 16, 0], compression: 'none' });
    // The TOC still names the file: point it at a member that is not there.
    const b = readFileSync(tar);
    const at = b.indexOf(Buffer.from(`${entries.find((e) => e.tag === 'tasks' && e.data)!.dumpId}.dat\0`));
    b.write('9999', at, 'latin1'); // rename the tasks member in its tar header (checksum now wrong)
    writeFileSync(tar, b);
    expect((await outcome(tar)).error?.code).toBe('ARCHIVE_CORRUPT');
  });

  it('an unknown compression byte and an unknown version are refused cleanly', async () => {
    const path = write('custom', entries, { version: [1, 16, 0], compression: 'gzip' });
    const b = readFileSync(path);
    b[11] = 4; // the compression-algorithm byte of a 1.15+ header
    writeFileSync(path, b);
    expect((await outcome(path)).error?.code).toBe('ARCHIVE_CORRUPT');
    b[11] = 1;
    b[6] = 17; // archive version 1.17
    writeFileSync(path, b);
    const r = await outcome(path);
    expect(r.error?.code).toBe('ARCHIVE_VERSION_UNKNOWN');
    expect(r.error?.hint).toContain('--pg-restore PATH');
  });
});

/** Bytes of SQL read through a slow consumer, and the peak RSS growth while doing it. */
async function drainSlowly(stream: Readable): Promise<{ bytes: number; rssGrowth: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  let bytes = 0;
  await pipeline(
    stream,
    new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _e, done) {
        bytes += chunk.length;
        peak = Math.max(peak, process.memoryUsage().rss);
        setImmediate(done);
      },
    }),
  );
  return { bytes, rssGrowth: peak - base };
}

describe('compression bombs stream with bounded memory', () => {
  const GB = 1024 ** 3;
  function bombEntries(stored: Buffer): WEntry[] {
    const users = entries.find((e) => e.tag === 'users' && e.data)!;
    return [...entries.filter((e) => !e.data), { ...users, rawStored: stored }];
  }

  it('a zlib stream of 1 GiB of zeros: streams through with RSS growth under 150 MB', async () => {
    const z = createDeflate({ level: 9 });
    const parts: Buffer[] = [];
    z.on('data', (c: Buffer) => parts.push(c));
    const zero = Buffer.alloc(1 << 20);
    for (let i = 0; i < 1024; i++) if (!z.write(zero)) await new Promise((r) => z.once('drain', r));
    z.write(Buffer.from('\n\\.\n\n')); // COPY data ends with its \. line, or the reader refuses it
    const ended = new Promise((r) => z.once('end', r));
    z.end();
    await ended;
    const path = write('custom', bombEntries(Buffer.concat(parts)), { version: [1, 16, 0], compression: 'gzip', chunk: 65536 });
    const info = await readArchiveInfo(path);
    const r = await drainSlowly(readArchiveSql(path, info, TABLES));
    expect(r.bytes).toBeGreaterThan(GB);
    expect(r.rssGrowth).toBeLessThan(150e6);
  }, 180_000);

  it('a zstd frame of RLE blocks that claims no size (4 bytes per 128 KiB): streams with RSS growth under 150 MB', async () => {
    // RFC 8878: magic, descriptor 0 (window descriptor follows), window 2^20, then RLE blocks.
    const blocks = 8192; // 1 GiB
    const end = Buffer.from('\n\\.\n\n'); // COPY data ends with its \. line, or the reader refuses it
    const frame = Buffer.alloc(6 + blocks * 4 + 3 + end.length);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame[4] = 0;
    frame[5] = (20 - 10) << 3;
    for (let i = 0; i < blocks; i++) {
      frame.writeUIntLE((1 << 1) | ((128 * 1024) << 3), 6 + i * 4, 3);
      frame[6 + i * 4 + 3] = 0x41;
    }
    // The last block: raw (type 0), the end line.
    frame.writeUIntLE(1 | (end.length << 3), 6 + blocks * 4, 3);
    end.copy(frame, 6 + blocks * 4 + 3);
    const path = write('custom', bombEntries(frame), { version: [1, 16, 0], compression: 'zstd', chunk: 4096 });
    const info = await readArchiveInfo(path);
    const r = await drainSlowly(readArchiveSql(path, info, TABLES));
    expect(r.bytes).toBeGreaterThan(GB);
    expect(r.rssGrowth).toBeLessThan(150e6);
  }, 180_000);

  it('a zstd frame that asks for a 2 GB window is refused before anything is allocated', async () => {
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3, 0x01, 0x00, 0x00]);
    const path = write('custom', bombEntries(frame), { version: [1, 16, 0], compression: 'zstd' });
    expect((await outcome(path)).error?.message).toMatch(/window/);
  });
});

/** Open descriptors of this process that point at `path`. */
function openFds(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

describe('the stream contract of the archive source', () => {
  it('one end and no error on a good archive, in pipeline()', async () => {
    const path = join(CURRENT, 'custom.dump');
    const s = readArchiveSql(path, await readArchiveInfo(path), TABLES);
    let ends = 0;
    let errors = 0;
    s.on('end', () => ends++);
    s.on('error', () => errors++);
    await pipeline(s, new PassThrough().resume());
    await new Promise((r) => setImmediate(r));
    expect({ ends, errors }).toEqual({ ends: 1, errors: 0 });
    expect(openFds(path)).toBe(0);
  });

  it('one error and no end on a damaged archive; pipeline() rejects with it; the file is closed', async () => {
    const bytes = readFileSync(join(CURRENT, 'custom.dump'));
    const path = join(work, 'contract-bad.dump');
    const info = await readArchiveInfo(join(CURRENT, 'custom.dump'));
    const last = info.toc.filter((e) => e.dataState === 'offset' && e.tag === 'tasktexts')[0]!;
    const b = Buffer.from(bytes);
    b.fill(0xff, Number(last.dataOffset) + 12, Number(last.dataOffset) + 40); // inside its compressed data
    writeFileSync(path, b);
    const s = readArchiveSql(path, info, TABLES);
    let ends = 0;
    let errors = 0;
    s.on('end', () => ends++);
    s.on('error', () => errors++);
    await expect(pipeline(s, new PassThrough().resume())).rejects.toBeInstanceOf(RecoverError);
    await new Promise((r) => setTimeout(r, 20));
    expect({ ends, errors }).toEqual({ ends: 0, errors: 1 });
    expect(openFds(path)).toBe(0);
  });

  it('destroy() mid-flight releases the file handle', async () => {
    const path = write('custom', entries, { version: [1, 16, 0], compression: 'gzip', chunk: 100 });
    const s = readArchiveSql(path, await readArchiveInfo(path), TABLES);
    // Read a little at a time until the reader is into the data (the file open): the settings and
    // table definitions come first, from the TOC already in memory.
    for (let i = 0; i < 200 && openFds(path) === 0; i++) {
      await new Promise<void>((resolve) => (s.readableLength ? resolve() : s.once('readable', () => resolve())));
      s.read(10);
      await new Promise((r) => setImmediate(r));
    }
    expect(openFds(path)).toBe(1);
    expect(s.destroyed).toBe(false);
    s.destroy();
    await new Promise((r) => s.once('close', r));
    for (let i = 0; i < 50 && openFds(path) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(openFds(path)).toBe(0);
  });
});

describe('end to end through PostgreSQL: archives this machine cannot make export exactly', () => {
  const config = (): SessionConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: () => {} });
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'generated', 'manifest.json'), 'utf8')) as { databases: { name: string; students: { username: string }[] }[] };
  const students = manifest.databases.find((d) => d.name === 'current')!.students;
  for (const [kind, compression, version] of [
    ['custom', 'lz4', [1, 15, 0]],
    ['piped', 'zstd', [1, 16, 0]],
    ['directory', 'lz4', [1, 16, 0]],
    ['directory', 'zstd', [1, 15, 0]],
  ] as const) {
    it(`${version.slice(0, 2).join('.')} ${kind} ${compression}: every student's JSON`, async (ctx) => {
      if (!HAVE[compression]) ctx.skip(`no ${compression} program here to make ${compression} data`);
      const path = write(kind, entries, { version, compression });
      await withBackup(path, config(), async (b) => {
        for (const s of students) {
          expect(renderJson(await b.query.texts(await b.query.findUser(s.username)))).toBe(readFileSync(join(CURRENT, 'expected', `${s.username}.json`), 'utf8'));
        }
      });
    }, 60_000);
  }
});
