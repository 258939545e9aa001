/**
 * load: filter events in, rows in the scratch database out.
 *
 * The scratch tables are ours, not the backup's: every wanted column is
 * `text`, so COPY data passes through byte for byte whatever the backup's
 * column types were, and nothing from the backup is ever executed. Types are
 * applied when querying (see query/).
 */
export { resolveBackupEncoding } from './encoding.js';
export { type LoadResult, type DatabaseLoad, type LoadTarget, createScratchTables, Loader, PART_SCHEMA_INFIX } from './loader.js';
