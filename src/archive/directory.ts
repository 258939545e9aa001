/**
 * Directory archives (pg_dump -Fd, src/bin/pg_dump/pg_backup_directory.c): toc.dat plus one
 * data file per table, named in the TOC as NNNN.dat and written with the compressor's suffix
 * (.gz, .lz4, .zst: compress_io.c's InitCompressFileHandle / suffixes).
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import { corrupt, HINT_TRUNCATED, kindOf, notRegularFile } from './damage.js';
import type { ArchiveInfo, ArchiveTocEntry, CompressionAlgorithm } from './types.js';

/** The suffix each compressor gives a directory archive's data file. */
const DATA_FILE_SUFFIX: [string, CompressionAlgorithm][] = [
  ['', 'none'],
  ['.gz', 'gzip'],
  ['.lz4', 'lz4'],
  ['.zst', 'zstd'],
];

/** The smallest gzip file is 20 bytes (a header and trailer around an empty stream, RFC 1952). */
const MIN_GZIP_FILE = 20;

export interface DataFile {
  path: string;
  size: number;
  compression: CompressionAlgorithm;
}

/** The file that holds an entry's data, whichever suffix it has; a missing one is damage. */
export async function findDataFile(dir: string, e: ArchiveTocEntry): Promise<DataFile> {
  const name = e.dataFile ?? '';
  // pg_dump names data files by dump ID; anything with a path in it would lead outside the directory.
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw corrupt(`expected a data file name like 1234.dat for TOC entry ${e.dumpId} in ${dir}, found one of ${name.length} characters that is not a plain file name`);
  }
  // lstat: a symlink, fifo or directory under any of its names is refused, not followed or skipped.
  const found = await Promise.all(
    DATA_FILE_SUFFIX.map(async ([ext, compression]) => {
      const path = join(dir, name + ext);
      const s = await lstat(path).catch(() => null);
      if (s && !s.isFile()) throw notRegularFile(path, dir, kindOf(s));
      return s ? { path, size: s.size, compression } : null;
    }),
  );
  const file = found.find((f) => f !== null);
  if (!file) {
    throw new RecoverError('ARCHIVE_TRUNCATED', `the directory backup ${dir} is incomplete: it has no ${name.slice(0, 60)} (the data of ${e.tag || `TOC entry ${e.dumpId}`})`, {
      hint: HINT_TRUNCATED,
    });
  }
  if (file.compression === 'gzip' && file.size < MIN_GZIP_FILE) {
    throw new RecoverError('ARCHIVE_TRUNCATED', `the directory backup ${dir} is incomplete: ${name}.gz has only ${file.size} bytes`, { hint: HINT_TRUNCATED });
  }
  return file;
}

/** A directory must hold every data file its TOC names (a copy that stopped part way). */
export async function checkDirectoryFiles(dir: string, info: ArchiveInfo): Promise<void> {
  for (const e of info.toc) {
    if (e.dataState !== 'file' || !e.dataFile) continue;
    await findDataFile(dir, e);
  }
}
