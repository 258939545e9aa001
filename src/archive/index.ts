/**
 * archive: pg_dump's custom, tar and directory archives read natively, with nothing but
 * Node.js. The stage's face; see each file for its one job.
 */
export type { ArchiveFormat, ArchiveInfo, ArchiveTocEntry, ArchiveVersion, CompressionAlgorithm,  } from './types.js';
export { MAX_ARCHIVE_VERSION } from './header.js';
export { parseArchive } from './toc.js';
export { archiveInfoOf, readArchiveInfo } from './info.js';
export { fileBytes, streamBytes, rangedBytes, bytesFrom, type ByteSource } from './bytes.js';
export { checkArchiveData } from './check.js';
export { readArchiveSql, wantedCopyBlocks,  } from './reader.js';
export { checkTocStatements } from './statements.js';
export { openFile } from './file.js';
export { ioError, kindOf } from './damage.js';
