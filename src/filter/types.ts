/** What the filter hands on (FilterEvent), counts (FilterStats) and takes (FilterOptions). */
import type { ColumnDef } from './statements.js';
import type { WantedTable } from './tables.js';

export type FilterEvent =
  /** A wanted table's definition was seen (columns as declared). */
  | { type: 'table'; table: WantedTable; columns: ColumnDef[] }
  /** Rows follow for `table`, with these (wanted, present) columns. */
  | { type: 'begin'; table: WantedTable; columns: string[] }
  /** COPY text-format lines, each ending in "\n", as a binary string. */
  | { type: 'rows'; table: WantedTable; data: string; count: number }
  /**
   * The same rows as bytes: FilterOptions.rawTexts' lines, as the dump has them. `ends`, when the
   * producer found them: where each line's newline is in `data`, in order, one per row.
   */
  | { type: 'bytes'; table: WantedTable; data: Buffer; count: number; ends?: readonly number[] }
  | { type: 'end'; table: WantedTable }
  /** The dump's `SET client_encoding`. Comes before any row. */
  | { type: 'encoding'; name: string }
  /** A `\connect` to this database: what follows is its part of the file (until the next one). */
  | { type: 'database'; name: string };

export interface FilterStats {
  statementsKept: number;
  statementsSkipped: number;
  metaCommands: number;
  copyBlocksSkipped: number;
  /** COPY blocks of wanted tables begun (an archive read natively says how many it holds). */
  copyBlocksKept: number;
  rowsKept: number;
  /** The dump began with pg_dump's header comment. */
  sawDumpHeader: boolean;
  /** The dump ended with pg_dump's "dump complete" comment (pg_dumpall's "cluster dump complete" for a cluster dump). */
  sawDumpComplete: boolean;
  /** The file began with pg_dumpall's header: several databases, each after a `\connect`. */
  clusterDump: boolean;
}

export interface FilterOptions {
  /**
   * Keep the texts (tasktexts, notes) of these user ids only, as the dump
   * writes them ("42"); every other table is kept whole. For commands that
   * follow one student: the others' texts, most of what a load costs, are
   * dropped here instead.
   */
  textsOf?: ReadonlySet<string>;
  /**
   * For scan, which holds every text in memory: a texts table whose every column is wanted has
   * its COPY lines handed on as the dump has them, in `bytes` events (its begin event names the
   * columns in the dump's order), never cut into fields and put together again. A line that a
   * chunk's end cut comes in a `rows` event. Not with textsOf, nor in a CRLF dump.
   */
  rawTexts?: boolean;
  /**
   * The chunks pushed are never written again once pushed (node:zlib's output, a file's reads:
   * SqlSource.chunksKept): rawTexts' `bytes` events may be views of them instead of copies (when
   * their rows are a good part of the chunk: batches.ts VIEW_SHARE).
   */
  chunksKept?: boolean;
}
