/**
 * The table of contents: PostgreSQL's ReadToc (src/bin/pg_dump/pg_backup_archiver.c) with each
 * format's _ReadExtraToc (pg_backup_custom.c: one ReadOffset per entry, where its data block
 * is; pg_backup_tar.c and pg_backup_directory.c: one ReadStr, the data file's name), and
 * parseArchive, header plus TOC from bytes. Pure: no I/O.
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
 * RecoverError (ARCHIVE_TRUNCATED, ARCHIVE_CORRUPT, ARCHIVE_VERSION_UNKNOWN, ...).
 */
import { RecoverError } from '../errors.js';
import {
  INT_MAX,
  K_OFFSET_POS_NOT_SET,
  K_OFFSET_POS_SET,
  K_VERS_1_10,
  K_VERS_1_11,
  K_VERS_1_14,
  K_VERS_1_16,
  K_VERS_1_3,
  K_VERS_1_5,
  K_VERS_1_6,
  K_VERS_1_8,
  K_VERS_1_9,
  SECTION_DATA,
  SECTION_NONE,
  SECTION_POST_DATA,
  SECTION_PRE_DATA,
} from './constants.js';
import { Cursor, NeedMoreBytes, type CursorLimits } from './cursor.js';
import { corrupt, HINT_TRUNCATED } from './damage.js';
import { readHeader } from './header.js';
import type { ArchiveFormat, ArchiveInfo, ArchiveTocEntry, TocSection } from './types.js';

const SECTION_NAME: Record<number, TocSection> = {
  [SECTION_NONE]: 'none',
  [SECTION_PRE_DATA]: 'pre-data',
  [SECTION_DATA]: 'data',
  [SECTION_POST_DATA]: 'post-data',
};

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

/**
 * The most TOC entries accepted. A race server's dump has a few hundred; a database with a
 * million large objects dumped before pg_dump 17 (one BLOB entry each) would reach this. Each
 * parsed entry costs a few hundred bytes of heap, so this bounds the TOC to well under 1 GB.
 */
export const MAX_TOC_ENTRIES = 1_000_000;

/**
 * The fewest bytes one TOC entry takes in this version and format: every int and string
 * ReadToc reads (a NULL string is one int), the dependency list's end, and the format's extra
 * (custom: a data offset; tar and directory: a file name string).
 */
function minEntrySize(v: number, intSize: number, offSize: number, format: ArchiveFormat): number {
  // dumpId, hadDumper, catalog OID, OID, tag, desc, section, defn, dropStmt, copyStmt, namespace,
  // tablespace, owner, WITH OIDS, the dependencies' NULL end (every version read is >= 1.12).
  let fields = 15;
  if (v >= K_VERS_1_14) fields++; // tableam
  if (v >= K_VERS_1_16) fields++; // relkind
  return fields * (1 + intSize) + (format === 'custom' ? 1 + offSize : 1 + intSize);
}

/** ReadToc, with the format's _ReadExtraToc. */
function readToc(c: Cursor, format: ArchiveFormat): ArchiveTocEntry[] {
  const countAt = c.pos;
  const count = c.int('the TOC entry count');
  if (count < 0 || count > INT_MAX) throw corrupt(`expected a TOC entry count of 0..${INT_MAX} at byte ${countAt}, found ${count}`);
  const v = c.version;
  // A lying count must not make the loop below fill the heap: no real dump has more than
  // MAX_TOC_ENTRIES, and the rest of the file must hold that many entries at their smallest
  // (else it is cut short, or lies: either way it ends before its TOC would).
  if (count > MAX_TOC_ENTRIES) {
    throw corrupt(`the TOC at byte ${countAt} says it has ${count} entries, more than the ${MAX_TOC_ENTRIES} any dump this tool reads has`);
  }
  const needed = c.pos + count * minEntrySize(v, c.intSize, c.offSize, format);
  if (needed > (c.limits.totalSize ?? c.buf.length)) throw new NeedMoreBytes(needed, `the ${count} entries the TOC says it has`);
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
    const defn = c.str(`the definition of ${w}`);
    c.skipStr(`the drop statement of ${w}`);
    const copyStmt = v >= K_VERS_1_3 ? c.str(`the COPY statement of ${w}`) : null;
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
      defn,
      copyStmt,
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

/** Header and TOC from a buffer, and the byte where the TOC ends; throws NeedMoreBytes when buf is too short. */
export function parseCore(buf: Buffer, format: ArchiveFormat, limits: CursorLimits): ArchiveInfo {
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
    tocEnd: c.pos,
  };
}

/** The error for a header or TOC that ends before it should. */
export function tocTruncated(e: NeedMoreBytes, have: number, where: string): RecoverError {
  return new RecoverError('ARCHIVE_TRUNCATED', `${where} ends after ${have} bytes, inside the archive header or TOC: expected at least ${e.needed} bytes to read ${e.what}`,
    { hint: HINT_TRUNCATED },
  );
}

function checkFormat(format: unknown): asserts format is ArchiveFormat {
  if (format !== 'custom' && format !== 'tar' && format !== 'directory') {
    throw new RecoverError('ARCHIVE_FORMAT_INVALID', `expected archive format custom, tar or directory, found ${String(format)}`, {
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
    if (e instanceof NeedMoreBytes) throw tocTruncated(e, buf.length, 'the archive data');
    throw e;
  }
}
