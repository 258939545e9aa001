/**
 * source: any backup in, a byte stream of plain SQL out.
 * Plain files are streamed; gzip through zlib; archives through the native
 * reader (src/archive), or through pg_restore when --pg-restore asks for it
 * (pg-restore.ts). Bytes of SQL are reported for progress.
 */
export { findPgRestore,   restoreList,  } from './pg-restore.js';
export { type SqlSource,  openSql } from './open.js';
