/**
 * The numbers of the pg_dump archive format, under PostgreSQL's own names, one comment each.
 * Sources (PostgreSQL, src/bin/pg_dump/ unless said otherwise):
 *  - pg_backup_archiver.h  K_VERS_* archive versions, K_OFFSET_* data-offset flags
 *  - pg_backup.h           ArchiveFormat codes, teSection
 *  - pg_backup_custom.c    BLK_DATA / BLK_BLOBS data-block types
 *  - src/include/common/compression.h  pg_compress_algorithm
 */

/** MAKE_ARCHIVE_VERSION in pg_backup_archiver.h: ((major * 256) + minor) * 256 + rev. */
export function makeVersion(major: number, minor: number, rev: number): number {
  return (major * 256 + minor) * 256 + rev;
}

/** 1.0: the first archive version; before it ReadInt had no sign byte. */
export const K_VERS_1_0 = makeVersion(1, 0, 0);
/** 1.3: TOC entries carry a COPY statement. */
export const K_VERS_1_3 = makeVersion(1, 3, 0);
// 1.4: header has the dump date and database name; compression level is an int (always present from 1.12).
/** 1.5: TOC entries carry dependencies. */
export const K_VERS_1_5 = makeVersion(1, 5, 0);
/** 1.6: TOC entries carry the schema (namespace). */
export const K_VERS_1_6 = makeVersion(1, 6, 0);
// 1.7: header has the file-offset size; offsets have a flag byte (always present from 1.12).
/** 1.8: TOC entries carry the catalog table OID; dependencies are dump IDs. */
export const K_VERS_1_8 = makeVersion(1, 8, 0);
/** 1.9: TOC entries carry the WITH OIDS flag (a string, "true"/"false"). */
export const K_VERS_1_9 = makeVersion(1, 9, 0);
/** 1.10: TOC entries carry the tablespace; header has server and pg_dump versions. */
export const K_VERS_1_10 = makeVersion(1, 10, 0);
/** 1.11: TOC entries carry their section (pre-data, data, post-data). */
export const K_VERS_1_11 = makeVersion(1, 11, 0);
/** 1.12: separate BLOB entries (no layout change); the oldest version this reader takes. */
export const K_VERS_1_12 = makeVersion(1, 12, 0);
// 1.13: search_path behaviour changed, SEARCHPATH entry (no layout change).
/** 1.14: TOC entries carry the table access method (tableam). pg_dump 12 .. 15. */
export const K_VERS_1_14 = makeVersion(1, 14, 0);
/** 1.15: header carries a compression-algorithm byte instead of a level. pg_dump 16. */
export const K_VERS_1_15 = makeVersion(1, 15, 0);
/** 1.16: TOC entries carry relkind; BLOB METADATA entries. pg_dump 17 and 18. */
export const K_VERS_1_16 = makeVersion(1, 16, 0);
/** Newest version read (pg_dump's K_VERS_MAX: any revision of the newest minor). */
export const K_VERS_MAX = makeVersion(1, 16, 255);

/** The magic string at the start of every archive header ("PGDMP", pg_backup_archiver.c WriteHead). */
export const MAGIC = Buffer.from('PGDMP', 'latin1');

/** ArchiveFormat codes in pg_backup.h, as written in the header's format byte. */
export const ARCH_CUSTOM = 1; // archCustom (-Fc)
export const ARCH_TAR = 3; // archTar (-Ft); 2 was the long-gone archFiles
export const ARCH_NULL = 4; // archNull (plain text), never in a header
export const ARCH_DIRECTORY = 5; // archDirectory (-Fd)

/** pg_compress_algorithm (common/compression.h), the header byte from archive 1.15 on. */
export const PG_COMPRESSION_NONE = 0; // no compression
export const PG_COMPRESSION_GZIP = 1; // zlib/gzip
export const PG_COMPRESSION_LZ4 = 2; // LZ4
export const PG_COMPRESSION_ZSTD = 3; // Zstandard

/** Data-offset flags of ReadOffset (pg_backup_archiver.h), the custom format's extra TOC. */
export const K_OFFSET_POS_NOT_SET = 1; // entry has data, but its position was not recorded (pipe)
export const K_OFFSET_POS_SET = 2; // entry has data at the recorded position
export const K_OFFSET_NO_DATA = 3; // entry has no data

/** teSection in pg_backup.h (written as an int from archive 1.11 on). */
export const SECTION_NONE = 1; // comments, ACLs, ...; can be anywhere
export const SECTION_PRE_DATA = 2;
export const SECTION_DATA = 3;
export const SECTION_POST_DATA = 4;

/** pg_backup_custom.c: a data block starts with one of these bytes, then the entry's dump id. */
export const BLK_DATA = 1; // a table's data: length-prefixed chunks up to a zero length
export const BLK_BLOBS = 3; // large objects: per object an OID and its chunks, then OID 0

/** Widest integer accepted (pg_dump writes sizeof(int) = 4; PostgreSQL allows up to 32). */
export const MAX_INT_SIZE = 8;
/** Widest file offset accepted (pg_dump writes sizeof(pgoff_t) = 8; extra bytes must be 0). */
export const MAX_OFF_SIZE = 16;
/** No string in a TOC can be longer than PostgreSQL's 1 GB field limit. */
export const MAX_STRING_LENGTH = 0x3fffffff;
/** C int range: pg_dump's counts and dump IDs are ints. */
export const INT_MAX = 0x7fffffff;

/** A tar header block, and the unit tar pads members to (POSIX ustar; pg_backup_tar.c). */
export const TAR_BLOCK = 512;
