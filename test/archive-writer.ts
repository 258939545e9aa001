/**
 * A small pg_dump archive WRITER for tests (as pg-protocol's test-buffers build protocol
 * messages): custom (with or without data offsets), directory and tar archives of any version
 * 1.12 .. 1.16 and any compression, from a list of TOC entries with their data. It follows
 * PostgreSQL's src/bin/pg_dump/: pg_backup_archiver.c WriteHead / WriteToc / WriteInt /
 * WriteStr / WriteOffset, pg_backup_custom.c _StartData / _CustomWriteFunc / _EndData (a block
 * type, the dump ID, length-prefixed chunks, a zero length), pg_backup_directory.c (NNNN.dat
 * plus the compressor's suffix) and pg_backup_tar.c (ustar members, toc.dat first).
 *
 * It makes what this machine's pg_dump cannot: archive 1.15, lz4 and zstd data, chunks cut at
 * any size, and damaged archives. lz4 and zstd data come from the lz4 and zstd programs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { readArchiveInfo, type ArchiveInfo, type ArchiveTocEntry, type CompressionAlgorithm } from '../src/archive/index.js';

export type Version = readonly [number, number, number];
/** Every archive version the reader knows. */
export const VERSIONS: Version[] = [
  [1, 12, 0],
  [1, 13, 0],
  [1, 14, 0],
  [1, 15, 0],
  [1, 16, 0],
];
export const vcode = (v: Version) => (v[0] * 256 + v[1]) * 256 + v[2];

/** One TOC entry as written, with its data (uncompressed) when it has any. */
export interface WEntry extends Omit<ArchiveTocEntry, 'dataState' | 'dataOffset' | 'dataFile'> {
  data?: Buffer;
  /** Write these bytes as the entry's stored data, instead of compressing `data`. */
  rawStored?: Buffer;
}

export interface WriteOptions {
  version: Version;
  compression: CompressionAlgorithm;
  /** Cut each table's compressed stream into chunks of this many bytes (default 4096). */
  chunk?: number;
  /** Custom format written to a pipe: no data offsets. */
  piped?: boolean;
  intSize?: number;
}

/** Are the lz4 and zstd programs here (to make lz4 and zstd data)? */
export const HAVE = {
  lz4: spawnSync('lz4', ['--version']).status === 0,
  zstd: spawnSync('zstd', ['--version']).status === 0,
};

function run(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Data as pg_dump stores it: custom gzip is a zlib stream, a directory's .gz a gzip file. */
export function compress(data: Buffer, alg: CompressionAlgorithm, container: 'custom' | 'file'): Buffer {
  switch (alg) {
    case 'none':
      return data;
    case 'gzip':
      return container === 'custom' ? deflateSync(data) : gzipSync(data);
    case 'lz4':
      // compress_lz4.c's LZ4F preferences: 64 KiB linked blocks, no checksums beyond the header's.
      return run('lz4', ['-q', '-c', '-BD', '-B4', '--no-frame-crc'], data);
    case 'zstd':
      // compress_zstd.c sets no checksum flag: pg_dump's frames have none (an empty table's is ~14 bytes).
      return run('zstd', ['-q', '-c', '--no-check'], data);
  }
}

/** pg_dump's archive encodings (WriteInt, WriteStr, WriteOffset), for this writer and the header tests. */
export class ArchiveBytes {
  parts: Buffer[] = [];
  length = 0;
  constructor(
    readonly intSize = 4,
    readonly offSize = 8,
  ) {}
  raw(b: Buffer) {
    this.parts.push(b);
    this.length += b.length;
  }
  byte(b: number) {
    this.raw(Buffer.from([b & 0xff]));
  }
  int(i: number) {
    const b = Buffer.alloc(1 + this.intSize);
    b[0] = i < 0 ? 1 : 0;
    let v = Math.abs(i);
    for (let k = 0; k < this.intSize; k++) {
      b[1 + k] = v % 256;
      v = Math.floor(v / 256);
    }
    this.raw(b);
  }
  str(s: string | null) {
    if (s === null) return this.int(-1);
    const bytes = Buffer.from(s, 'utf8');
    this.int(bytes.length);
    this.raw(bytes);
  }
  offset(flag: number, value: number | bigint) {
    const b = Buffer.alloc(1 + this.offSize);
    b[0] = flag;
    let v = BigInt(value);
    for (let k = 0; k < this.offSize; k++) {
      b[1 + k] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.raw(b);
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

const SECTION: Record<ArchiveTocEntry['section'], number> = { none: 1, 'pre-data': 2, data: 3, 'post-data': 4 };
const FORMAT_BYTE = { custom: 1, tar: 3, directory: 3 } as const;
const ALG_BYTE: Record<CompressionAlgorithm, number> = { none: 0, gzip: 1, lz4: 2, zstd: 3 };

/** The fields of WriteHead, as written: any value, so that tests can write nonsense too. */
export interface HeadFields {
  version: Version;
  /** 1 custom, 3 tar and directory. */
  formatByte: number;
  /** From 1.15 the algorithm byte (0 none, 1 gzip, 2 lz4, 3 zstd); before, the zlib level (an int). */
  compression: number;
  /** tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_isdst. */
  tm: readonly number[];
  dbname: string | null;
  serverVersion: string | null;
  dumpVersion: string | null;
}

/** WriteHead: magic, version, the ArchiveBytes' int and offset sizes, format, compression, time, names. */
export function writeHead(w: ArchiveBytes, h: HeadFields): void {
  w.raw(Buffer.from('PGDMP'));
  for (const b of h.version) w.byte(b);
  w.byte(w.intSize);
  w.byte(w.offSize);
  w.byte(h.formatByte);
  if (vcode(h.version) >= vcode([1, 15, 0])) w.byte(h.compression);
  else w.int(h.compression);
  for (const x of h.tm) w.int(x);
  w.str(h.dbname);
  w.str(h.serverVersion);
  w.str(h.dumpVersion);
}

/** The fields of one TOC entry as WriteToc writes them, before the format's _WriteExtraToc. */
export interface TocFields {
  dumpId: number;
  hadDumper: boolean;
  tableOid: string;
  oid: string;
  tag: string | null;
  desc: string;
  /** 1 none, 2 pre-data, 3 data, 4 post-data. */
  section: number;
  defn: string | null;
  dropStmt: string | null;
  copyStmt: string | null;
  namespace: string | null;
  tablespace: string | null;
  tableam: string | null;
  /** A char code; 0 for none. */
  relkind: number;
  owner: string | null;
  deps: string[];
}

/** One TOC entry (WriteToc's loop body, without the format's extra): tableam from 1.14, relkind from 1.16. */
export function writeTocEntry(w: ArchiveBytes, version: Version, e: TocFields): void {
  const v = vcode(version);
  w.int(e.dumpId);
  w.int(e.hadDumper ? 1 : 0);
  w.str(e.tableOid);
  w.str(e.oid);
  w.str(e.tag);
  w.str(e.desc);
  w.int(e.section);
  w.str(e.defn);
  w.str(e.dropStmt);
  w.str(e.copyStmt);
  w.str(e.namespace);
  w.str(e.tablespace);
  if (v >= vcode([1, 14, 0])) w.str(e.tableam);
  if (v >= vcode([1, 16, 0])) w.int(e.relkind);
  w.str(e.owner);
  w.str('false'); // WITH OIDS
  for (const d of e.deps) w.str(d);
  w.str(null);
}

/** WriteHead + WriteToc; `extra(entry)` writes the format's _WriteExtraToc. */
function headerAndToc(entries: WEntry[], format: 'custom' | 'tar' | 'directory', o: WriteOptions, extra: (w: ArchiveBytes, e: WEntry) => void): Buffer {
  const modern = vcode(o.version) >= vcode([1, 15, 0]);
  if (!modern && o.compression !== 'none' && o.compression !== 'gzip') throw new Error(`archive ${o.version.join('.')} cannot say ${o.compression}`);
  const w = new ArchiveBytes(o.intSize ?? 4);
  writeHead(w, {
    version: o.version,
    formatByte: FORMAT_BYTE[format],
    compression: modern ? ALG_BYTE[o.compression] : o.compression === 'none' ? 0 : -1,
    tm: [45, 22, 7, 24, 10, 126, 0],
    dbname: 'buggy_race',
    serverVersion: '17.2',
    dumpVersion: '17.2',
  });
  w.int(entries.length);
  for (const e of entries) {
    writeTocEntry(w, o.version, {
      dumpId: e.dumpId,
      hadDumper: e.hadDumper,
      tableOid: String(e.tableOid),
      oid: String(e.oid),
      tag: e.tag,
      desc: e.desc,
      section: SECTION[e.section],
      defn: e.defn,
      dropStmt: null,
      copyStmt: e.copyStmt,
      namespace: e.namespace,
      tablespace: e.tablespace,
      tableam: e.tableam,
      relkind: e.relkind ? e.relkind.charCodeAt(0) : 0,
      owner: e.owner,
      deps: e.dependencies.map(String),
    });
    extra(w, e);
  }
  return w.done();
}

const hasData = (e: WEntry) => e.data !== undefined || e.rawStored !== undefined;
const stored = (e: WEntry, o: WriteOptions, container: 'custom' | 'file') => e.rawStored ?? compress(e.data!, o.compression, container);

/** One custom-format data block: BLK_DATA, the dump ID, the chunks, a zero length. */
export function dataBlock(dumpId: number, body: Buffer, chunk: number, intSize = 4): Buffer {
  const w = new ArchiveBytes(intSize);
  w.byte(1);
  w.int(dumpId);
  for (let i = 0; i < body.length; i += chunk) {
    const part = body.subarray(i, i + chunk);
    w.int(part.length);
    w.raw(part);
  }
  w.int(0);
  return w.done();
}

export function customArchive(entries: WEntry[], o: WriteOptions): Buffer {
  const blocks = new Map<number, Buffer>();
  for (const e of entries) if (hasData(e)) blocks.set(e.dumpId, dataBlock(e.dumpId, stored(e, o, 'custom'), o.chunk ?? 4096, o.intSize));
  const offsets = new Map<number, number>();
  const write = () =>
    headerAndToc(entries, 'custom', o, (w, e) => {
      if (!blocks.has(e.dumpId)) w.offset(3, 0);
      else if (o.piped) w.offset(1, 0);
      else w.offset(2, offsets.get(e.dumpId) ?? 0);
    });
  let at = write().length;
  for (const [id, b] of blocks) {
    offsets.set(id, at);
    at += b.length;
  }
  return Buffer.concat([write(), ...blocks.values()]);
}

const SUFFIX: Record<CompressionAlgorithm, string> = { none: '', gzip: '.gz', lz4: '.lz4', zstd: '.zst' };

export function directoryArchive(dir: string, entries: WEntry[], o: WriteOptions): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'toc.dat'), headerAndToc(entries, 'directory', o, (w, e) => w.str(hasData(e) ? `${e.dumpId}.dat` : null)));
  for (const e of entries) if (hasData(e)) writeFileSync(join(dir, `${e.dumpId}.dat${SUFFIX[o.compression]}`), stored(e, o, 'file'));
}

/** A ustar member header, as pg_dump's tar format writes one (pg_backup_tar.c _tarWriteHeader). */
export function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000600\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('15114716215\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** pg_backup_tar.c: uncompressed members (pg_dump 15+ refuses compression for tar). */
export function tarArchive(entries: WEntry[], o: WriteOptions): Buffer {
  const members: [string, Buffer][] = [['toc.dat', headerAndToc(entries, 'tar', { ...o, compression: 'none' }, (w, e) => w.str(hasData(e) ? `${e.dumpId}.dat` : null))]];
  for (const e of entries) if (hasData(e)) members.push([`${e.dumpId}.dat`, e.rawStored ?? e.data!]);
  const parts = members.flatMap(([n, c]) => [tarHeader(n, c.length), c, Buffer.alloc((512 - (c.length % 512)) % 512)]);
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

/**
 * pg_dump 18's --statistics entry for a table (pg_dump.c dumpRelationStats): desc STATISTICS
 * DATA, the table's own schema and tag, section data (post-data for an index's or after
 * matviews), a defn that calls pg_restore_relation_stats / pg_restore_attribute_stats, no data.
 */
export function statisticsData(table: WEntry, dumpId: number, section: 'data' | 'post-data'): WEntry {
  const call =
    section === 'data'
      ? `pg_restore_relation_stats(\n\t'version', '180000'::integer,\n\t'schemaname', '${table.namespace}',\n\t'relname', '${table.tag}',\n\t'relpages', '1'::integer,\n\t'reltuples', '3'::real\n)`
      : `pg_restore_attribute_stats(\n\t'version', '180000'::integer,\n\t'schemaname', '${table.namespace}',\n\t'relname', '${table.tag}',\n\t'attname', 'id',\n\t'inherited', 'f'::boolean,\n\t'null_frac', '0'::real\n)`;
  return {
    ...table,
    dumpId,
    desc: 'STATISTICS DATA',
    hadDumper: false,
    section,
    relkind: null,
    tableam: null,
    defn: `SELECT * FROM pg_catalog.${call};\n`,
    copyStmt: null,
    dependencies: [table.dumpId],
    data: undefined,
    rawStored: undefined,
  };
}

/**
 * The entries of a real archive (the `current` fixture's directory archive, pg_dump 15), with
 * each table's data, to write again in another version, format or compression.
 */
export async function fixtureEntries(dir: string): Promise<{ info: ArchiveInfo; entries: WEntry[] }> {
  const info = await readArchiveInfo(dir);
  const entries = info.toc.map(({ dataState, dataOffset, dataFile, ...rest }): WEntry => {
    void dataState;
    void dataOffset;
    if (!dataFile) return rest;
    const gz = join(dir, `${dataFile}.gz`);
    return { ...rest, data: existsSync(gz) ? gunzipSync(readFileSync(gz)) : readFileSync(join(dir, dataFile)) };
  });
  return { info, entries };
}
