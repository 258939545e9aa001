/**
 * readArchiveInfo: the header and TOC of a custom file, a tar file or a directory, read from
 * disk. Reads 64 KiB first and more only as the TOC needs it (the TOC is at the start, so a
 * 1 GB backup costs a few reads).
 */
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import { MAGIC, TAR_BLOCK } from './constants.js';
import { corrupt, hexOf, HINT_TRUNCATED, ioError, kindOf, notRegularFile } from './damage.js';
import { fileBytes, type ByteSource } from './bytes.js';
import { parseFromBytes, withFile } from './file.js';
import { findTarToc, isTocNamePrefix, parseTarHeader } from './tar.js';
import type { ArchiveInfo } from './types.js';

/** A directory's toc.dat; a compressed one is refused with what to do. */
export async function directoryToc(path: string): Promise<string> {
  const tocPath = join(path, 'toc.dat');
  // lstat: inside the archive a symlink is refused, not followed (the directory itself may be one).
  const tocStat = await lstat(tocPath).catch(() => null);
  if (tocStat !== null) {
    if (tocStat.isFile()) return tocPath;
    throw notRegularFile(tocPath, path, kindOf(tocStat));
  }
  for (const ext of ['.gz', '.lz4', '.zst']) {
    const alt = await lstat(tocPath + ext).catch(() => null);
    if (alt?.isFile()) {
      throw new RecoverError('ARCHIVE_TOC_COMPRESSED', `expected an uncompressed toc.dat in the directory backup ${path}, found toc.dat${ext}`, {
        hint: `Decompress it next to the original (e.g. with ${ext === '.gz' ? 'gunzip -k' : ext === '.lz4' ? 'lz4 -d' : 'zstd -d'}) and try again.`,
      });
    }
  }
  throw corrupt(`expected a toc.dat file in the directory backup ${path}, found none`, 'Point at the directory pg_dump -Fd wrote (it holds toc.dat and NNNN.dat files), or at a backup file.');
}

/**
 * Read the header and TOC of a pg_dump archive: a custom-format file, a tar file, or a
 * directory-format directory.
 */
export async function readArchiveInfo(path: string): Promise<ArchiveInfo> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw ioError(e, path);
  }

  if (st.isDirectory()) {
    const tocPath = await directoryToc(path);
    return withFile(tocPath, (fh, size) => parseFromBytes(fileBytes(fh, tocPath, size), 0, size, 'directory', `${tocPath} (${size} bytes)`), path);
  }

  return withFile(path, (fh, size) => archiveInfoOf(fileBytes(fh, path, size)));
}

/** The header and TOC of a custom or tar archive, wherever its bytes come from. */
export async function archiveInfoOf(src: ByteSource): Promise<ArchiveInfo> {
  const path = src.name;
  const size = src.size;
  const bytes = size === undefined ? 'as far as read' : `${size} bytes`;
  const head = await src.read(0, TAR_BLOCK);
  const magicHave = Math.min(head.length, MAGIC.length);
  if (head.length > 0 && head.subarray(0, magicHave).equals(MAGIC.subarray(0, magicHave))) {
    return parseFromBytes(src, 0, size, 'custom', `${path} (${bytes})`);
  }
  if (head.length === TAR_BLOCK && parseTarHeader(head) !== null) {
    const m = await findTarToc(src);
    const available = size === undefined ? '' : `${Math.max(0, Math.min(m.size, size - m.dataStart))} of `;
    return parseFromBytes(src, m.dataStart, m.size, 'tar', `the toc.dat member of ${path} (${available}${m.size} bytes present)`);
  }
  if (head.length < TAR_BLOCK && isTocNamePrefix(head)) {
    // pg_dump's tar starts with the toc.dat member's header; this file ends inside it.
    throw new RecoverError('ARCHIVE_TRUNCATED', `expected a 512-byte tar header at the start of ${path}, found a file of ${head.length} bytes`, {
      hint: HINT_TRUNCATED,
    });
  }
  if (head.length === 0) {
    throw new RecoverError('ARCHIVE_TRUNCATED', `expected a pg_dump archive in ${path}, found an empty file`, { hint: HINT_TRUNCATED });
  }
  throw corrupt(
    `expected a pg_dump custom archive ('PGDMP') or a tar archive in ${path}, found ${hexOf(head, 8)}`,
    'Plain SQL and gzip backups are read without this archive reader; otherwise this is not a pg_dump backup.',
  );
}
