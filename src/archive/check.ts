/**
 * Is the archive's data all there? readArchiveInfo reads only the header and TOC, so a backup
 * cut off in its data could otherwise pass unnoticed until the reader met the cut (or, with
 * pg_restore 15 on a cut tar, spin forever). Cheap: tar headers are read one block each and
 * their contents skipped; a custom archive's data offsets are compared with its size and only
 * its last block is walked, chunk by chunk, to its end marker; a directory must hold every data
 * file its TOC names. Returns the info to read with: a tar's carries its member map.
 */
import { corrupt, dataTruncated } from './damage.js';
import { FileCursor, readBlockHeader, skipBlock } from './blocks.js';
import { checkDirectoryFiles } from './directory.js';
import { fileBytes } from './bytes.js';
import { withFile } from './file.js';
import { listTarMembers } from './tar.js';
import type { ArchiveInfo } from './types.js';

export async function checkArchiveData(path: string, info: ArchiveInfo): Promise<ArchiveInfo> {
  if (info.format === 'directory') {
    await checkDirectoryFiles(path, info);
    return info;
  }
  return withFile(path, async (fh, size) => {
    const src = fileBytes(fh, path, size);
    // A tar's member map is kept for the reader, which would otherwise walk the headers again.
    if (info.format === 'tar') return { ...info, tarMembers: await listTarMembers(src) };
    const blocks = info.toc.filter((e) => e.dataState === 'offset').map((e) => ({ id: e.dumpId, at: Number(e.dataOffset) }));
    if (!blocks.length) return info;
    const last = blocks.reduce((a, b) => (b.at > a.at ? b : a));
    if (last.at >= size) throw dataTruncated(path, size, `the data of TOC entry ${last.id} should start at byte ${last.at}`);
    const c = new FileCursor(src, info.intSize, last.at);
    const block = await readBlockHeader(c);
    if (block === null || block.dumpId !== last.id) throw corrupt(`expected the data of TOC entry ${last.id} at byte ${last.at} of ${path}`);
    await skipBlock(c, block);
    return info;
  });
}
