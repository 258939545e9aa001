/**
 * source: any backup in, a byte stream of plain SQL out.
 * Plain files are streamed; gzip through zlib; archives through pg_restore
 * (see archive.ts). Bytes read from disk are reported for progress.
 */
export { findPgRestore, maxArchiveMinorFor, majorNeededFor, restoreList, type PgRestore } from './archive.js';
export { type SqlSource, type SourceOptions, openSql } from './open.js';
