/**
 * filter: a stream of plain SQL (bytes) in, the wanted tables' rows out.
 * The state machine is SqlFilter (filter.ts, over the pieces it names);
 * SqlFilterStream is its stream adapter.
 */
export { SqlFilter } from './filter.js';
export { copyField } from './inserts.js';
export type { FilterEvent, FilterOptions, FilterStats } from './types.js';
export { WANTED_COLUMNS, WANTED_TABLES, KEPT_SETTINGS, type WantedTable } from './tables.js';
export { parseStatement, type ColumnDef } from './statements.js';
export { SqlFilterStream } from './stream.js';
export { tokenize, readQualifiedName, isKeyword, isOp, type Token } from './tokens.js';
