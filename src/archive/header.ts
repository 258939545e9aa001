/**
 * The archive header: PostgreSQL's ReadHead (src/bin/pg_dump/pg_backup_archiver.c), for
 * archive versions 1.12 .. 1.16. Pure: reads from a Cursor.
 */
import { RecoverError } from '../errors.js';
import {
  ARCH_CUSTOM,
  ARCH_DIRECTORY,
  ARCH_NULL,
  ARCH_TAR,
  K_VERS_1_0,
  K_VERS_1_12,
  K_VERS_1_15,
  K_VERS_MAX,
  MAGIC,
  MAX_INT_SIZE,
  MAX_OFF_SIZE,
  PG_COMPRESSION_GZIP,
  PG_COMPRESSION_LZ4,
  PG_COMPRESSION_NONE,
  PG_COMPRESSION_ZSTD,
  makeVersion,
} from './constants.js';
import type { Cursor } from './cursor.js';
import { corrupt, hexOf } from './damage.js';
import type { ArchiveFormat, ArchiveInfo, ArchiveVersion, CompressionAlgorithm } from './types.js';

/** The newest archive version this reader understands. */
export const MAX_ARCHIVE_VERSION: ArchiveVersion = Object.freeze({ major: 1, minor: 16, rev: 0, text: '1.16' });

/**
 * The format byte each format's header carries. A directory archive's toc.dat says archTar:
 * pg_backup_directory.c switches AH->format to archTar around WriteHead/ReadHead ("the TOC
 * of a directory format dump shares the format code of the tar format").
 */
const HEADER_FORMAT_CODE: Record<ArchiveFormat, number> = { custom: ARCH_CUSTOM, tar: ARCH_TAR, directory: ARCH_TAR };
const FORMAT_NAME: Record<number, string> = {
  [ARCH_CUSTOM]: 'custom',
  [ARCH_TAR]: 'tar or directory',
  [ARCH_NULL]: 'plain',
  [ARCH_DIRECTORY]: 'directory',
};

const COMPRESSION_NAME: Record<number, CompressionAlgorithm> = {
  [PG_COMPRESSION_NONE]: 'none',
  [PG_COMPRESSION_GZIP]: 'gzip',
  [PG_COMPRESSION_LZ4]: 'lz4',
  [PG_COMPRESSION_ZSTD]: 'zstd',
};

export interface Header {
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

function versionText(major: number, minor: number, rev: number): string {
  return rev === 0 ? `${major}.${minor}` : `${major}.${minor}.${rev}`;
}

/** ReadHead. Sets the cursor's version, intSize and offSize for what follows. */
export function readHeader(c: Cursor, format: ArchiveFormat): Header {
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
    throw new RecoverError('ARCHIVE_VERSION_UNKNOWN', `expected an archive version up to ${MAX_ARCHIVE_VERSION.text} (pg_dump 17), found ${text} (header ${hexOf(buf)}): a newer pg_dump made it, and reading it needs pg_restore of that newer PostgreSQL major version`,
      {
        hint: `Pass --pg-restore PATH to a pg_restore from the PostgreSQL major version that made the backup (or newer), or turn it into plain SQL with it (pg_restore -f dump.sql BACKUP), or upgrade recover-texts.`,
      },
    );
  }
  if (code < K_VERS_1_12) {
    throw new RecoverError('ARCHIVE_VERSION_TOO_OLD', `expected an archive version from 1.12 to ${MAX_ARCHIVE_VERSION.text}, found ${text}: the backup was made by a pg_dump older than 9.0 (header ${hexOf(buf)})`,
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
