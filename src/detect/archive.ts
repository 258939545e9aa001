/**
 * Native reader of pg_dump archive headers and tables of contents (TOC), for the custom
 * (-Fc), tar (-Ft) and directory (-Fd) formats. No external tools: it reads the bytes.
 *
 * The layout is PostgreSQL's, src/bin/pg_dump/:
 *  - pg_backup_archiver.c  WriteHead/ReadHead (header), WriteToc/ReadToc (TOC entries),
 *                          WriteInt/ReadInt, WriteStr/ReadStr, WriteOffset/ReadOffset
 *  - pg_backup_archiver.h  K_VERS_* version numbers, K_OFFSET_* data-offset flags
 *  - pg_backup.h           ArchiveFormat codes (archCustom = 1, archTar = 3, archDirectory = 5)
 *  - pg_backup_custom.c    _ReadExtraToc: one ReadOffset per entry (where its data block is)
 *  - pg_backup_tar.c,
 *    pg_backup_directory.c _ReadExtraToc: one ReadStr per entry (the data file's name)
 *  - src/include/common/compression.h  pg_compress_algorithm (none/gzip/lz4/zstd = 0..3)
 *
 * Every field a reader gates on the archive version is gated here the same way, so archive
 * versions 1.12 .. 1.16 (pg_dump 9.x .. 17/18) parse exactly. What changed, per version:
 *  - 1.12: separate BLOB entries (no layout change)
 *  - 1.13: search_path behaviour, SEARCHPATH entry (no layout change)
 *  - 1.14: TOC entries carry the table access method (a string after the tablespace)
 *  - 1.15: the header's integer compression level becomes one compression-algorithm byte
 *  - 1.16: TOC entries carry relkind (an int after the tableam); BLOB METADATA entries
 *
 * Defensive by design: every length is checked against what is there before anything is
 * sliced, nothing is preallocated from a count read from the file, and every failure is a
 * RecoverError (ARCHIVE_TRUNCATED, ARCHIVE_CORRUPT, ARCHIVE_VERSION_UNKNOWN, ...). Messages
 * never quote data from the archive beyond a short hex of its header bytes.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { RecoverError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type ArchiveFormat = 'custom' | 'tar' | 'directory';
export type CompressionAlgorithm = 'none' | 'gzip' | 'lz4' | 'zstd';
export type TocSection = 'none' | 'pre-data' | 'data' | 'post-data';

export interface ArchiveVersion {
  major: number;
  minor: number;
  rev: number;
  /** "1.14" when rev is 0, else "1.14.2". */
  text: string;
}

export interface ArchiveTocEntry {
  dumpId: number;
  /** The object type, e.g. 'TABLE', 'TABLE DATA', 'SEQUENCE', 'ENCODING'. */
  desc: string;
  /** Schema name; '' when the entry has none (pg_restore -l shows '-'). */
  namespace: string;
  /** The object's name. */
  tag: string;
  /** '' when the entry has no owner. */
  owner: string;
  /** pg_dump had a data dumper for this entry (it has data: TABLE DATA, BLOBS, ...). */
  hadDumper: boolean;
  /**
   * Where the entry's data is:
   * - 'offset'    custom format, dataOffset is the byte offset of its data block
   * - 'no-offset' custom format, it has data but the offset was never filled in
   *               (the archive was written to a pipe; readers must scan sequentially)
   * - 'file'      tar/directory format, dataFile names the member/file with its data
   * - 'none'      no data
   */
  dataState: 'none' | 'offset' | 'no-offset' | 'file';
  /** Byte offset of the data block in a custom archive (a bigint only beyond 2^53). */
  dataOffset?: bigint | number;
  /**
   * The data file name as written in the TOC, e.g. '3362.dat'. A directory archive's file on
   * disk carries the compression suffix ('3362.dat.gz', '.lz4', '.zst') when compressed.
   */
  dataFile?: string;
  /** Dump IDs of the entries this one depends on (a TABLE DATA's first is its TABLE). */
  dependencies: number[];
  /** pg_class OID of the catalog the object is in (0 when none). */
  tableOid: number;
  /** The object's OID (0 when none). */
  oid: number;
  section: TocSection;
  /** Tablespace; null when not applicable, '' for the database default. */
  tablespace: string | null;
  /** Table access method (archive >= 1.14), null when not applicable or older archive. */
  tableam: string | null;
  /** pg_class.relkind as one character (archive >= 1.16, TABLE entries), else null. */
  relkind: string | null;
}

export interface ArchiveInfo {
  format: ArchiveFormat;
  version: ArchiveVersion;
  intSize: number;
  offSize: number;
  /**
   * Archives before 1.15 store a zlib level (level 0 means none, -1 the default, else gzip);
   * from 1.15 on they store only the algorithm, and level is absent.
   */
  compression: { algorithm: CompressionAlgorithm; level?: number };
  /**
   * The struct tm as written: the local time of the machine that ran pg_dump, no zone.
   * Converted to calendar fields: year is the full year, month 1..12 (tm_year + 1900,
   * tm_mon + 1); day, hour, minute, second as written; isDst is tm_isdst (1, 0 or -1).
   */
  dumpedAt: { year: number; month: number; day: number; hour: number; minute: number; second: number; isDst: number };
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  toc: ArchiveTocEntry[];
  /**
   * Custom format: true when no TABLE DATA entry lacks its data offset (false for archives
   * written to a pipe, which pg_restore can only read sequentially). Tar and directory
   * formats: true when every TABLE DATA entry names its data file.
   */
  hasDataOffsets: boolean;
}

// ---------------------------------------------------------------------------------------------
// Constants (PostgreSQL's names and values)
// ---------------------------------------------------------------------------------------------

/** MAKE_ARCHIVE_VERSION in pg_backup_archiver.h: ((major * 256) + minor) * 256 + rev. */
function makeVersion(major: number, minor: number, rev: number): number {
  return (major * 256 + minor) * 256 + rev;
}

/** 1.0: the first archive version; before it ReadInt had no sign byte. */
const K_VERS_1_0 = makeVersion(1, 0, 0);
/** 1.3: TOC entries carry a COPY statement. */
const K_VERS_1_3 = makeVersion(1, 3, 0);
// 1.4: header has the dump date and database name; compression level is an int (always present from 1.12).
/** 1.5: TOC entries carry dependencies. */
const K_VERS_1_5 = makeVersion(1, 5, 0);
/** 1.6: TOC entries carry the schema (namespace). */
const K_VERS_1_6 = makeVersion(1, 6, 0);
// 1.7: header has the file-offset size; offsets have a flag byte (always present from 1.12).
/** 1.8: TOC entries carry the catalog table OID; dependencies are dump IDs. */
const K_VERS_1_8 = makeVersion(1, 8, 0);
/** 1.9: TOC entries carry the WITH OIDS flag (a string, "true"/"false"). */
const K_VERS_1_9 = makeVersion(1, 9, 0);
/** 1.10: TOC entries carry the tablespace; header has server and pg_dump versions. */
const K_VERS_1_10 = makeVersion(1, 10, 0);
/** 1.11: TOC entries carry their section (pre-data, data, post-data). */
const K_VERS_1_11 = makeVersion(1, 11, 0);
/** 1.12: separate BLOB entries (no layout change); the oldest version this reader takes. */
const K_VERS_1_12 = makeVersion(1, 12, 0);
// 1.13: search_path behaviour changed, SEARCHPATH entry (no layout change).
/** 1.14: TOC entries carry the table access method (tableam). pg_dump 12 .. 15. */
const K_VERS_1_14 = makeVersion(1, 14, 0);
/** 1.15: header carries a compression-algorithm byte instead of a level. pg_dump 16. */
const K_VERS_1_15 = makeVersion(1, 15, 0);
/** 1.16: TOC entries carry relkind; BLOB METADATA entries. pg_dump 17 and 18. */
const K_VERS_1_16 = makeVersion(1, 16, 0);
/** Newest version read (pg_dump's K_VERS_MAX: any revision of the newest minor). */
const K_VERS_MAX = makeVersion(1, 16, 255);

/** The newest archive version this reader understands. */
export const MAX_ARCHIVE_VERSION: ArchiveVersion = Object.freeze({ major: 1, minor: 16, rev: 0, text: '1.16' });

/** The magic string at the start of every archive header ("PGDMP"). */
const MAGIC = Buffer.from('PGDMP', 'latin1');

/** ArchiveFormat codes in pg_backup.h, as written in the header's format byte. */
const ARCH_CUSTOM = 1; // archCustom (-Fc)
const ARCH_TAR = 3; // archTar (-Ft); 2 was the long-gone archFiles
const ARCH_DIRECTORY = 5; // archDirectory (-Fd); 4 is archNull (plain text), never in a header
/**
 * The format byte each format's header carries. A directory archive's toc.dat says archTar:
 * pg_backup_directory.c switches AH->format to archTar around WriteHead/ReadHead ("the TOC
 * of a directory format dump shares the format code of the tar format").
 */
const HEADER_FORMAT_CODE: Record<ArchiveFormat, number> = { custom: ARCH_CUSTOM, tar: ARCH_TAR, directory: ARCH_TAR };
const FORMAT_NAME: Record<number, string> = {
  [ARCH_CUSTOM]: 'custom',
  [ARCH_TAR]: 'tar or directory',
  4: 'plain',
  [ARCH_DIRECTORY]: 'directory',
};

/** pg_compress_algorithm (common/compression.h), the header byte from archive 1.15 on. */
const PG_COMPRESSION_NONE = 0; // no compression
const PG_COMPRESSION_GZIP = 1; // zlib/gzip
const PG_COMPRESSION_LZ4 = 2; // LZ4
const PG_COMPRESSION_ZSTD = 3; // Zstandard
const COMPRESSION_NAME: Record<number, CompressionAlgorithm> = {
  [PG_COMPRESSION_NONE]: 'none',
  [PG_COMPRESSION_GZIP]: 'gzip',
  [PG_COMPRESSION_LZ4]: 'lz4',
  [PG_COMPRESSION_ZSTD]: 'zstd',
};

/** Data-offset flags of ReadOffset (pg_backup_archiver.h), the custom format's extra TOC. */
const K_OFFSET_POS_NOT_SET = 1; // entry has data, but its position was not recorded (pipe)
const K_OFFSET_POS_SET = 2; // entry has data at the recorded position
const K_OFFSET_NO_DATA = 3; // entry has no data

/** teSection in pg_backup.h (written as an int from archive 1.11 on). */
const SECTION_NAME: Record<number, TocSection> = {
  1: 'none', // SECTION_NONE: comments, ACLs, ...; can be anywhere
  2: 'pre-data', // SECTION_PRE_DATA
  3: 'data', // SECTION_DATA
  4: 'post-data', // SECTION_POST_DATA
};

/** Widest integer accepted (pg_dump writes sizeof(int) = 4; PostgreSQL allows up to 32). */
const MAX_INT_SIZE = 8;
/** Widest file offset accepted (pg_dump writes sizeof(pgoff_t) = 8; extra bytes must be 0). */
const MAX_OFF_SIZE = 16;
/** No string in a TOC can be longer than PostgreSQL's 1 GB field limit. */
const MAX_STRING_LENGTH = 0x3fffffff;
/** C int range: pg_dump's counts and dump IDs are ints. */
const INT_MAX = 0x7fffffff;

/** First read of readArchiveInfo; doubled (or grown to what is needed) on truncation. */
const INITIAL_READ = 64 * 1024;
/** A tar header block (and the unit tar pads members to). */
const TAR_BLOCK = 512;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const HINT_TRUNCATED =
  'The backup looks incomplete (cut off while copying or still being written): copy it again from its source and check its size.';
const HINT_CORRUPT =
  'The backup is damaged or is not a pg_dump archive; try another backup, or check it with pg_restore -l.';

/** Thrown inside the parser when the buffer ends early; the caller may read more and retry. */
class NeedMoreBytes extends Error {
  constructor(
    readonly needed: number,
    readonly what: string,
  ) {
    super(`need ${needed} bytes for ${what}`);
  }
}

function corrupt(message: string, hint: string = HINT_CORRUPT): RecoverError {
  return new RecoverError('ARCHIVE_CORRUPT', 'damaged', `corrupt archive: ${message}`, { hint });
}

function truncated(e: NeedMoreBytes, have: number, where: string): RecoverError {
  return new RecoverError(
    'ARCHIVE_TRUNCATED',
    'damaged',
    `${where} ends after ${have} bytes, inside the archive header or TOC: expected at least ${e.needed} bytes to read ${e.what}`,
    { hint: HINT_TRUNCATED },
  );
}

function hexOf(buf: Buffer, n = 12): string {
  return buf.subarray(0, Math.min(n, buf.length)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function versionText(major: number, minor: number, rev: number): string {
  return rev === 0 ? `${major}.${minor}` : `${major}.${minor}.${rev}`;
}

// ---------------------------------------------------------------------------------------------
// The parser: a cursor over a buffer that may be a prefix of the archive
// ---------------------------------------------------------------------------------------------

interface ParseLimits {
  /** Total bytes of the header+TOC stream (file or member size), when known. */
  totalSize?: number;
}

class Cursor {
  pos = 0;
  intSize = 4;
  offSize = 8;
  version = 0;
  constructor(
    readonly buf: Buffer,
    readonly limits: ParseLimits,
  ) {}

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new NeedMoreBytes(this.pos + n, what);
  }

  byte(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  /** ReadInt: a sign byte (any non-zero = negative), then intSize bytes, least significant first. */
  int(what: string): number {
    this.need(1 + this.intSize, what);
    const sign = this.buf[this.pos] as number;
    let value = 0;
    for (let i = 0; i < this.intSize; i++) value += (this.buf[this.pos + 1 + i] as number) * 2 ** (8 * i);
    this.pos += 1 + this.intSize;
    return sign !== 0 && value !== 0 ? -value : value;
  }

  /** ReadStr's length, checked: -1 is NULL; other negatives and absurd lengths are corrupt. */
  private strLength(what: string): number | null {
    const at = this.pos;
    const len = this.int(`the length of ${what}`);
    if (len === -1) return null;
    if (len < 0) throw corrupt(`expected a string length >= -1 for ${what} at byte ${at}, found a negative length`);
    const limit = this.limits.totalSize;
    if (len > MAX_STRING_LENGTH || (limit !== undefined && len > limit)) {
      throw corrupt(
        `expected a string length for ${what} at byte ${at} that fits in the archive${limit === undefined ? '' : ` (${limit} bytes)`}, found ${len}`,
      );
    }
    this.need(len, what);
    return len;
  }

  /** ReadStr: a length-prefixed string, NULL when the length is -1. */
  str(what: string): string | null {
    const len = this.strLength(what);
    if (len === null) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** ReadStr without decoding (definitions and other statements we do not need). */
  skipStr(what: string): void {
    const len = this.strLength(what);
    if (len !== null) this.pos += len;
  }

  /** ReadOffset (archive >= 1.7): a flag byte, then offSize bytes, least significant first. */
  offset(what: string): { flag: number; value: bigint | number } {
    const at = this.pos;
    this.need(1 + this.offSize, what);
    const flag = this.buf[this.pos] as number;
    if (flag !== K_OFFSET_POS_NOT_SET && flag !== K_OFFSET_POS_SET && flag !== K_OFFSET_NO_DATA) {
      throw corrupt(`expected a data-offset flag 1, 2 or 3 for ${what} at byte ${at}, found ${flag}`);
    }
    let value = 0n;
    for (let i = 0; i < this.offSize; i++) {
      const b = this.buf[this.pos + 1 + i] as number;
      if (i >= 8 && b !== 0) throw corrupt(`expected a data offset below 2^64 for ${what} at byte ${at}, found a wider one`);
      value |= BigInt(b) << BigInt(8 * i);
    }
    this.pos += 1 + this.offSize;
    return { flag, value: value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value };
  }
}

interface Header {
  version: ArchiveVersion;
  versionCode: number;
  intSize: number;
  offSize: number;
  compression: ArchiveInfo['compression'];
  dumpedAt: ArchiveInfo['dumpedAt'];
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
}

/** ReadHead. */
function readHeader(c: Cursor, format: ArchiveFormat): Header {
  const buf = c.buf;
  // The magic string: a short buffer that agrees with it so far is a truncation.
  const magicHave = Math.min(buf.length, MAGIC.length);
  if (!buf.subarray(0, magicHave).equals(MAGIC.subarray(0, magicHave))) {
    throw corrupt(`expected the pg_dump archive magic 'PGDMP' (50 47 44 4d 50), found ${hexOf(buf, 8)}`);
  }
  c.need(MAGIC.length, "the magic string 'PGDMP'");
  c.pos = MAGIC.length;

  const major = c.byte('the archive version');
  const minor = c.byte('the archive version');
  const rev = major > 1 || (major === 1 && minor > 0) ? c.byte('the archive version') : 0;
  const code = makeVersion(major, minor, rev);
  const text = versionText(major, minor, rev);
  if (code < K_VERS_1_0) {
    throw corrupt(`expected an archive version 1.x in the header, found ${text} (header ${hexOf(buf)})`);
  }
  if (code > K_VERS_MAX) {
    throw new RecoverError(
      'ARCHIVE_VERSION_UNKNOWN',
      'unsupported',
      `expected an archive version up to ${MAX_ARCHIVE_VERSION.text} (pg_dump 17), found ${text} (header ${hexOf(buf)}): a newer pg_dump made it, and reading it needs pg_restore of that newer PostgreSQL major version`,
      {
        hint: `Use pg_restore from the PostgreSQL major version that made the backup (or newer) to turn it into plain SQL (pg_restore -f dump.sql BACKUP), or upgrade recover-texts.`,
      },
    );
  }
  if (code < K_VERS_1_12) {
    throw new RecoverError(
      'ARCHIVE_VERSION_TOO_OLD',
      'unsupported',
      `expected an archive version from 1.12 to ${MAX_ARCHIVE_VERSION.text}, found ${text}: the backup was made by a pg_dump older than 9.0 (header ${hexOf(buf)})`,
      { hint: 'Restore it with the pg_restore of its time, or turn it into plain SQL (pg_restore -f dump.sql BACKUP) and use that.' },
    );
  }
  c.version = code;

  const intSize = c.byte('the integer size');
  if (intSize < 1 || intSize > MAX_INT_SIZE) {
    throw corrupt(`expected an integer size of 1..${MAX_INT_SIZE} bytes in the header, found ${intSize} (header ${hexOf(buf)})`);
  }
  c.intSize = intSize;
  // Every accepted version is >= 1.7, which has the offset size.
  const offSize = c.byte('the offset size');
  if (offSize < 1 || offSize > MAX_OFF_SIZE) {
    throw corrupt(`expected an offset size of 1..${MAX_OFF_SIZE} bytes in the header, found ${offSize} (header ${hexOf(buf)})`);
  }
  c.offSize = offSize;

  const fmt = c.byte('the format code');
  const expected = HEADER_FORMAT_CODE[format];
  if (fmt !== expected) {
    const found = FORMAT_NAME[fmt];
    throw corrupt(
      `expected format code ${expected} (${FORMAT_NAME[expected]}) in the header of a ${format} archive, found ${fmt}${found ? ` (${found})` : ''} (header ${hexOf(buf)})`,
    );
  }

  let compression: ArchiveInfo['compression'];
  if (code >= K_VERS_1_15) {
    const alg = c.byte('the compression algorithm');
    const name = COMPRESSION_NAME[alg];
    if (name === undefined) {
      throw corrupt(`expected a compression algorithm 0..3 (none, gzip, lz4, zstd) in the header, found ${alg} (header ${hexOf(buf)})`);
    }
    compression = { algorithm: name };
  } else {
    // 1.4 .. 1.14: a zlib level; anything but 0 means gzip (ReadHead's guess, too).
    const level = c.int('the compression level');
    compression = { algorithm: level === 0 ? 'none' : 'gzip', level };
  }

  // The struct tm, in WriteHead's order (>= 1.4).
  const second = c.int('the dump time');
  const minute = c.int('the dump time');
  const hour = c.int('the dump time');
  const day = c.int('the dump time');
  const mon = c.int('the dump time');
  const year = c.int('the dump time');
  const isDst = c.int('the dump time');
  const database = c.str('the database name') ?? '';
  // >= 1.10: the server's and pg_dump's version strings.
  const serverVersion = c.str('the server version') ?? '';
  const pgDumpVersion = c.str('the pg_dump version') ?? '';

  return {
    version: { major, minor, rev, text },
    versionCode: code,
    intSize,
    offSize,
    compression,
    dumpedAt: { year: year + 1900, month: mon + 1, day, hour, minute, second, isDst },
    database,
    serverVersion,
    pgDumpVersion,
  };
}

/** A dependency is written as the decimal text of a dump ID. */
function parseDumpIdText(s: string, what: string): number {
  if (!/^-?\d{1,10}$/.test(s)) throw corrupt(`expected a decimal dump ID in ${what}, found a string of ${s.length} other characters`);
  return Number(s);
}

/** OIDs are written as decimal text ("%u"); sscanf gives 0 for anything else. */
function parseOidText(s: string | null): number {
  if (s === null || !/^\d{1,10}$/.test(s)) return 0;
  return Number(s);
}

/** ReadToc, with the format's _ReadExtraToc. */
function readToc(c: Cursor, format: ArchiveFormat): ArchiveTocEntry[] {
  const countAt = c.pos;
  const count = c.int('the TOC entry count');
  if (count < 0 || count > INT_MAX) throw corrupt(`expected a TOC entry count of 0..${INT_MAX} at byte ${countAt}, found ${count}`);
  const v = c.version;
  const toc: ArchiveTocEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = c.pos;
    const w = `TOC entry ${i + 1} of ${count}`;
    const dumpId = c.int(`the dump ID of ${w}`);
    if (dumpId <= 0 || dumpId > INT_MAX) throw corrupt(`expected a dump ID of 1..${INT_MAX} for ${w} at byte ${at}, found ${dumpId}`);
    const hadDumper = c.int(`the data flag of ${w}`) !== 0;
    const tableOid = v >= K_VERS_1_8 ? parseOidText(c.str(`the catalog OID of ${w}`)) : 0;
    const oid = parseOidText(c.str(`the OID of ${w}`));
    const tag = c.str(`the name of ${w}`) ?? '';
    const desc = c.str(`the type of ${w}`) ?? '';
    let section: TocSection = 'none';
    if (v >= K_VERS_1_11) {
      const sAt = c.pos;
      const s = c.int(`the section of ${w}`);
      const name = SECTION_NAME[s];
      if (name === undefined) throw corrupt(`expected a section code 1..4 for ${w} at byte ${sAt}, found ${s}`);
      section = name;
    }
    c.skipStr(`the definition of ${w}`);
    c.skipStr(`the drop statement of ${w}`);
    if (v >= K_VERS_1_3) c.skipStr(`the COPY statement of ${w}`);
    const namespace = v >= K_VERS_1_6 ? (c.str(`the schema of ${w}`) ?? '') : '';
    const tablespace = v >= K_VERS_1_10 ? c.str(`the tablespace of ${w}`) : null;
    const tableam = v >= K_VERS_1_14 ? c.str(`the table access method of ${w}`) : null;
    let relkind: string | null = null;
    if (v >= K_VERS_1_16) {
      const rk = c.int(`the relkind of ${w}`);
      // Written from a C char: 0 when not a relation, else a letter such as 'r', 'p', 'v'.
      relkind = rk > 0 && rk < 128 ? String.fromCharCode(rk) : null;
    }
    const owner = c.str(`the owner of ${w}`) ?? '';
    if (v >= K_VERS_1_9) c.skipStr(`the WITH OIDS flag of ${w}`);
    const dependencies: number[] = [];
    if (v >= K_VERS_1_5) {
      // A list of strings ended by a NULL string.
      for (;;) {
        const d = c.str(`a dependency of ${w}`);
        if (d === null) break;
        dependencies.push(parseDumpIdText(d, `a dependency of ${w}`));
      }
    }

    const entry: ArchiveTocEntry = {
      dumpId,
      desc,
      namespace,
      tag,
      owner,
      hadDumper,
      dataState: 'none',
      dependencies,
      tableOid,
      oid,
      section,
      tablespace,
      tableam,
      relkind,
    };
    if (format === 'custom') {
      const { flag, value } = c.offset(`the data offset of ${w}`);
      if (flag === K_OFFSET_POS_SET) {
        entry.dataState = 'offset';
        entry.dataOffset = value;
      } else if (flag === K_OFFSET_POS_NOT_SET) {
        entry.dataState = 'no-offset';
      }
    } else {
      const file = c.str(`the data file name of ${w}`);
      if (file !== null && file.length > 0) {
        entry.dataState = 'file';
        entry.dataFile = file;
      }
    }
    toc.push(entry);
  }
  return toc;
}

/** Parse header and TOC; throws NeedMoreBytes when buf is too short. */
function parseCore(buf: Buffer, format: ArchiveFormat, limits: ParseLimits): ArchiveInfo {
  const c = new Cursor(buf, limits);
  const h = readHeader(c, format);
  const toc = readToc(c, format);
  const data = toc.filter((e) => e.desc === 'TABLE DATA');
  const hasDataOffsets =
    format === 'custom' ? data.every((e) => e.dataState !== 'no-offset') : data.every((e) => e.dataState === 'file');
  return {
    format,
    version: h.version,
    intSize: h.intSize,
    offSize: h.offSize,
    compression: h.compression,
    dumpedAt: h.dumpedAt,
    database: h.database,
    serverVersion: h.serverVersion,
    pgDumpVersion: h.pgDumpVersion,
    toc,
    hasDataOffsets,
  };
}

function checkFormat(format: unknown): asserts format is ArchiveFormat {
  if (format !== 'custom' && format !== 'tar' && format !== 'directory') {
    throw new RecoverError('ARCHIVE_FORMAT_INVALID', 'internal', `expected archive format custom, tar or directory, found ${String(format)}`, {
      hint: 'This is a bug in recover-texts; please report it.',
    });
  }
}

/**
 * Parse an archive's header and TOC from bytes that start at 'PGDMP' (for tar, the content of
 * the toc.dat member; for directory, the toc.dat file). Throws ARCHIVE_TRUNCATED when buf ends
 * before the TOC does, ARCHIVE_CORRUPT on impossible values, ARCHIVE_VERSION_UNKNOWN on archives
 * newer than MAX_ARCHIVE_VERSION, ARCHIVE_VERSION_TOO_OLD before 1.12.
 */
export function parseArchive(buf: Buffer, format: ArchiveFormat): ArchiveInfo {
  checkFormat(format);
  try {
    return parseCore(buf, format, {});
  } catch (e) {
    if (e instanceof NeedMoreBytes) throw truncated(e, buf.length, 'the archive data');
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Files: read only as much as the header and TOC need
// ---------------------------------------------------------------------------------------------

function ioError(e: unknown, path: string): RecoverError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new RecoverError('BACKUP_NOT_FOUND', 'usage', `expected a backup file or directory at ${path}, found nothing there`, {
      hint: 'Check the path (and that the backup share is mounted).',
      cause: e,
    });
  }
  return new RecoverError('BACKUP_UNREADABLE', 'badBackup', `expected to read the backup at ${path}, got ${code ?? 'an I/O error'}`, {
    hint: 'Check that the file is readable by this user (permissions, a mounted share).',
    cause: e,
  });
}

/** Read up to len bytes at pos; fewer only at end of file. */
async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const out = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(out, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? out : out.subarray(0, got);
}

/**
 * Parse the header+TOC stream that starts at byte `start` of the open file and is `size` bytes
 * long (as far as is known), reading 64 KiB first and more only while the parser needs it.
 */
async function parseFromFile(fh: FileHandle, start: number, size: number, format: ArchiveFormat, where: string): Promise<ArchiveInfo> {
  let buf = await readAt(fh, start, Math.min(INITIAL_READ, size));
  for (;;) {
    const atEnd = buf.length >= size;
    try {
      return parseCore(buf, format, { totalSize: size });
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      if (atEnd || e.needed > size) throw truncated(e, Math.min(buf.length, size), where);
      const want = Math.min(size, Math.max(buf.length * 2, e.needed + INITIAL_READ));
      const more = await readAt(fh, start + buf.length, want - buf.length);
      if (more.length === 0) throw truncated(e, buf.length, where);
      buf = Buffer.concat([buf, more]);
      if (buf.length < want) size = buf.length; // the file ended early (e.g. a cut tar)
    }
  }
}

interface TarMember {
  name: string;
  size: number;
  dataStart: number;
}

/** Parse a numeric tar header field: octal text, or base-256 when the top bit is set. */
function tarNumber(field: Buffer): number | null {
  if (((field[0] as number) & 0x80) !== 0) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] as number);
    return v <= Number.MAX_SAFE_INTEGER ? v : null;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

/** A 512-byte tar header block: its checksum must agree (as pg_restore's isValidTarHeader checks). */
function parseTarHeader(block: Buffer): { name: string; size: number; type: string } | null {
  const sum = tarNumber(block.subarray(148, 156));
  if (sum === null) return null;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b >= 128 ? b - 256 : b;
  }
  if (sum !== unsigned && sum !== signed) return null;
  const size = tarNumber(block.subarray(124, 136));
  if (size === null) return null;
  const cstr = (b: Buffer): string => {
    const z = b.indexOf(0);
    return b.toString('utf8', 0, z < 0 ? b.length : z);
  };
  let name = cstr(block.subarray(0, 100));
  if (block.toString('latin1', 257, 262) === 'ustar') {
    const prefix = cstr(block.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  return { name, size, type: String.fromCharCode(block[156] as number) };
}

/** Does a short file start like pg_dump's tar, whose first header names toc.dat? */
function isTocNamePrefix(head: Buffer): boolean {
  const name = Buffer.from('toc.dat\0', 'latin1');
  const n = Math.min(head.length, name.length);
  if (n === 0 || !head.subarray(0, n).equals(name.subarray(0, n))) return false;
  for (let i = name.length; i < Math.min(head.length, 100); i++) if (head[i] !== 0) return false;
  return true;
}

function isZeroBlock(b: Buffer): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/** Find toc.dat among the tar's members (pg_dump writes it first), reading headers only. */
async function findTarToc(fh: FileHandle, fileSize: number, path: string): Promise<TarMember> {
  let pos = 0;
  for (;;) {
    const block = await readAt(fh, pos, TAR_BLOCK);
    if (block.length < TAR_BLOCK) {
      throw new RecoverError(
        'ARCHIVE_TRUNCATED',
        'damaged',
        `expected a tar header at byte ${pos} of ${path}, found the end of the file (${fileSize} bytes) before a toc.dat member`,
        { hint: HINT_TRUNCATED },
      );
    }
    if (isZeroBlock(block)) {
      throw corrupt(`expected a toc.dat member in the tar backup ${path}, found the end of the tar at byte ${pos} without one`);
    }
    const h = parseTarHeader(block);
    if (h === null) {
      throw corrupt(`expected a valid tar header at byte ${pos} of ${path}, found ${hexOf(block, 8)} with a bad checksum or size`);
    }
    const dataStart = pos + TAR_BLOCK;
    const base = h.name.replace(/^(\.\/)+/, '');
    if (base === 'toc.dat' && (h.type === '0' || h.type === '\0')) return { name: base, size: h.size, dataStart };
    pos = dataStart + Math.ceil(h.size / TAR_BLOCK) * TAR_BLOCK;
  }
}

/** pg_backup_custom.c: a data block starts with one of these bytes, then the entry's dump id. */
const BLK_DATA = 1;
const BLK_BLOBS = 3;
/** How much of a custom archive's last data block is read at a time while walking its chunks. */
const WALK_WINDOW = 1024 * 1024;

function dataTruncated(path: string, size: number, what: string): RecoverError {
  return new RecoverError('ARCHIVE_TRUNCATED', 'damaged', `${path} is truncated: it ends after ${size} bytes, inside the archive's data (${what})`, { hint: HINT_TRUNCATED });
}

/**
 * Is the archive's data all there? readArchiveInfo reads only the header and TOC, and
 * pg_restore reads only the blocks it is asked for, so a backup cut off in its data could
 * otherwise pass unnoticed, or (pg_restore 15 on a cut tar) make pg_restore spin forever.
 * Cheap: tar headers are read one block each and their contents skipped; a custom archive's
 * data offsets are compared with its size and only its last block is walked, chunk by chunk,
 * to its end marker (pg_backup_custom.c _StartData/_EndData, _StartLOs/_EndLOs). A directory
 * must hold every data file its TOC names (a copy that stopped part way); what is inside them,
 * like the blocks of a custom archive written to a pipe (no offsets), is left to pg_restore.
 */
export async function checkArchiveData(path: string, info: ArchiveInfo): Promise<void> {
  if (info.format === 'directory') return checkDirectoryFiles(path, info);
  await withFile(path, async (fh, size) => {
    if (info.format === 'tar') return checkTarComplete(fh, size, path);
    const blocks = info.toc.filter((e) => e.dataState === 'offset').map((e) => ({ id: e.dumpId, at: Number(e.dataOffset) }));
    if (!blocks.length) return;
    const last = blocks.reduce((a, b) => (b.at > a.at ? b : a));
    if (last.at >= size) throw dataTruncated(path, size, `the data of TOC entry ${last.id} should start at byte ${last.at}`);
    await walkLastBlock(fh, size, path, last, info.intSize);
  });
}

/** pg_backup_directory.c: each data file is NNNN.dat, plus the compressor's suffix. */
async function checkDirectoryFiles(dir: string, info: ArchiveInfo): Promise<void> {
  for (const e of info.toc) {
    if (e.dataState !== 'file' || !e.dataFile) continue;
    const found = await Promise.all(['', '.gz', '.lz4', '.zst'].map((ext) => stat(join(dir, e.dataFile + ext)).then((s) => ({ ext, size: s.size }), () => null)));
    const file = found.find((f) => f !== null);
    if (!file) {
      throw new RecoverError('ARCHIVE_TRUNCATED', 'damaged', `the directory backup ${dir} is incomplete: it has no ${e.dataFile} (the data of ${e.tag || `TOC entry ${e.dumpId}`})`, { hint: HINT_TRUNCATED });
    }
    // The smallest gzip file is 20 bytes (a header and trailer around an empty stream, RFC 1952).
    if (file.ext === '.gz' && file.size < 20) {
      throw new RecoverError('ARCHIVE_TRUNCATED', 'damaged', `the directory backup ${dir} is incomplete: ${e.dataFile}.gz has only ${file.size} bytes`, { hint: HINT_TRUNCATED });
    }
  }
}

/** Every member complete, then pg_dump's end-of-archive marker (two zero blocks, pg_backup_tar.c _CloseArchive). */
async function checkTarComplete(fh: FileHandle, size: number, path: string): Promise<void> {
  let pos = 0;
  for (;;) {
    const block = await readAt(fh, pos, TAR_BLOCK);
    if (block.length < TAR_BLOCK) throw dataTruncated(path, size, `expected a tar header or the end-of-archive marker at byte ${pos}`);
    if (isZeroBlock(block)) {
      const second = await readAt(fh, pos + TAR_BLOCK, TAR_BLOCK);
      if (second.length < TAR_BLOCK) throw dataTruncated(path, size, `the end-of-archive marker at byte ${pos} is incomplete`);
      return;
    }
    const h = parseTarHeader(block);
    if (h === null) throw corrupt(`expected a valid tar header at byte ${pos} of ${path}, found ${hexOf(block, 8)} with a bad checksum or size`);
    const end = pos + TAR_BLOCK + h.size;
    if (end > size) throw dataTruncated(path, size, `member ${JSON.stringify(h.name.slice(0, 40))} needs ${h.size} bytes from byte ${pos + TAR_BLOCK}`);
    pos += TAR_BLOCK + Math.ceil(h.size / TAR_BLOCK) * TAR_BLOCK;
  }
}

/** Follow the last data block's length-prefixed chunks; the block must end before the file does. */
async function walkLastBlock(fh: FileHandle, size: number, path: string, block: { id: number; at: number }, intSize: number): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  let bufAt = block.at;
  let pos = block.at;
  const what = `the data block of TOC entry ${block.id} (from byte ${block.at})`;
  const take = async (n: number): Promise<Buffer> => {
    if (pos + n > bufAt + buf.length) {
      bufAt = pos;
      buf = await readAt(fh, pos, Math.max(n, WALK_WINDOW));
      if (buf.length < n) throw dataTruncated(path, size, `${what} is incomplete`);
    }
    const out = buf.subarray(pos - bufAt, pos - bufAt + n);
    pos += n;
    return out;
  };
  const int = async (): Promise<number> => {
    const b = await take(1 + intSize);
    let v = 0;
    for (let i = 0; i < intSize; i++) v += (b[1 + i] as number) * 2 ** (8 * i);
    return b[0] !== 0 && v !== 0 ? -v : v;
  };
  /** Chunks up to the zero-length one that ends a table's (or one large object's) data. */
  const chunks = async (): Promise<void> => {
    for (let len = await int(); len !== 0; len = await int()) {
      if (len < 0) throw corrupt(`a chunk of ${what} in ${path} has length ${len}`);
      if (pos + len > size) throw dataTruncated(path, size, `${what} is incomplete`);
      pos += len;
    }
  };
  const type = (await take(1))[0];
  if ((await int()) !== block.id) throw corrupt(`expected the data of TOC entry ${block.id} at byte ${block.at} of ${path}`);
  if (type === BLK_DATA) return chunks();
  if (type !== BLK_BLOBS) throw corrupt(`expected a data block at byte ${block.at} of ${path}, found block type ${type}`);
  while ((await int()) !== 0) await chunks(); // one OID, then its chunks, per large object
}

async function withFile<T>(path: string, fn: (fh: FileHandle, size: number) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(e, path);
  }
  try {
    const size = (await fh.stat()).size;
    return await fn(fh, size);
  } catch (e) {
    if (e instanceof RecoverError) throw e;
    throw ioError(e, path);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Read the header and TOC of a pg_dump archive: a custom-format file, a tar file, or a
 * directory-format directory. Reads 64 KiB first and more only as the TOC needs it (the
 * TOC is at the start, so a 1 GB backup costs a few reads).
 */
export async function readArchiveInfo(path: string): Promise<ArchiveInfo> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw ioError(e, path);
  }

  if (st.isDirectory()) {
    const tocPath = join(path, 'toc.dat');
    const tocStat = await stat(tocPath).catch(() => null);
    if (tocStat === null || !tocStat.isFile()) {
      for (const ext of ['.gz', '.lz4', '.zst']) {
        const alt = await stat(tocPath + ext).catch(() => null);
        if (alt?.isFile()) {
          throw new RecoverError(
            'ARCHIVE_TOC_COMPRESSED',
            'unsupported',
            `expected an uncompressed toc.dat in the directory backup ${path}, found toc.dat${ext}`,
            { hint: `Decompress it next to the original (e.g. with ${ext === '.gz' ? 'gunzip -k' : ext === '.lz4' ? 'lz4 -d' : 'zstd -d'}) and try again.` },
          );
        }
      }
      throw corrupt(`expected a toc.dat file in the directory backup ${path}, found none`, 'Point at the directory pg_dump -Fd wrote (it holds toc.dat and NNNN.dat files), or at a backup file.');
    }
    return withFile(tocPath, (fh, size) => parseFromFile(fh, 0, size, 'directory', `${tocPath} (${size} bytes)`));
  }

  return withFile(path, async (fh, size) => {
    const head = await readAt(fh, 0, TAR_BLOCK);
    const magicHave = Math.min(head.length, MAGIC.length);
    if (head.length > 0 && head.subarray(0, magicHave).equals(MAGIC.subarray(0, magicHave))) {
      return parseFromFile(fh, 0, size, 'custom', `${path} (${size} bytes)`);
    }
    if (head.length === TAR_BLOCK && parseTarHeader(head) !== null) {
      const m = await findTarToc(fh, size, path);
      const available = Math.max(0, Math.min(m.size, size - m.dataStart));
      const info = await parseFromFile(fh, m.dataStart, m.size, 'tar', `the toc.dat member of ${path} (${available} of ${m.size} bytes present)`);
      return info;
    }
    if (head.length < TAR_BLOCK && isTocNamePrefix(head)) {
      // pg_dump's tar starts with the toc.dat member's header; this file ends inside it.
      throw new RecoverError(
        'ARCHIVE_TRUNCATED',
        'damaged',
        `expected a 512-byte tar header at the start of ${path}, found a file of ${head.length} bytes`,
        { hint: HINT_TRUNCATED },
      );
    }
    if (head.length === 0) {
      throw new RecoverError('ARCHIVE_TRUNCATED', 'damaged', `expected a pg_dump archive in ${path}, found an empty file`, { hint: HINT_TRUNCATED });
    }
    throw corrupt(
      `expected a pg_dump custom archive ('PGDMP') or a tar archive in ${path}, found ${hexOf(head, 8)}`,
      'Plain SQL and gzip backups are read without this archive reader; otherwise this is not a pg_dump backup.',
    );
  });
}
