/**
 * The archive stage's data types: what a pg_dump archive's header and table of contents say.
 * Field meanings follow PostgreSQL's src/bin/pg_dump/pg_backup_archiver.h (ArchiveHandle,
 * TocEntry).
 */

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
  /**
   * The statement that creates the object (CREATE TABLE ..., SET client_encoding ...), as
   * pg_restore prints it; null when the entry has none. Never executed: the native reader
   * hands the wanted tables' definitions to the SQL filter, like a plain dump's.
   */
  defn: string | null;
  /** A TABLE DATA entry's "COPY ... FROM stdin;" (null for INSERT-style data and other entries). */
  copyStmt: string | null;
}

/** A member of a tar archive, found by its header. */
export interface TarMember {
  name: string;
  size: number;
  /** The byte where the member's content starts. */
  dataStart: number;
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
   * written to a pipe, which must be read sequentially). Tar and directory formats: true
   * when every TABLE DATA entry names its data file.
   */
  hasDataOffsets: boolean;
  /**
   * Where the header and TOC end, in bytes from their start (a custom archive: the file's
   * first byte, so this is where its data blocks begin; a tar: its toc.dat member; a
   * directory: toc.dat). The reader starts there; nothing reads the TOC a second time.
   */
  tocEnd: number;
  /**
   * A tar archive's members by name, once checkArchiveData has walked its headers (it checks
   * that every member is whole); the reader finds each table's data here without walking
   * them again.
   */
  tarMembers?: ReadonlyMap<string, TarMember>;
}
