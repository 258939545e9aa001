/**
 * filter: a stream of plain SQL (bytes) in, the wanted tables' rows out.
 * The state machine lives in splitter.ts; this is the stream adapter.
 */
export { SqlFilter, copyField, type FilterEvent, type FilterOptions, type FilterStats } from './splitter.js';
export { WANTED_COLUMNS, WANTED_TABLES, KEPT_SETTINGS, type WantedTable } from './tables.js';
export type { ColumnDef } from './statements.js';
export { SqlFilterStream } from './stream.js';
export { tokenize, readQualifiedName, isKeyword, isOp, type Token } from './tokens.js';
