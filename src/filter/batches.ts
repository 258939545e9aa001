/**
 * The kept rows handed on: a `begin` event, the rows in `rows` events of
 * about BATCH_CHARS each (COPY text lines), and an `end` event. COPY blocks
 * and runs of INSERTs alike come out this way; rows kept as the dump has
 * them (FilterOptions.rawTexts) in `bytes` events between.
 */
import type { WantedTable } from './tables.js';
import type { FilterEvent, FilterStats } from './types.js';

/** Rows are handed on in batches of about this many characters. */
const BATCH_CHARS = 64 * 1024;

/**
 * A view keeps the whole memory its chunk is in (a gunzip chunk is a slice of a 1 MiB buffer):
 * rows are handed on as one only when they are at least a 1/VIEW_SHARE part of that memory, so
 * what is held never costs more than this many times its bytes (a dump of many tiny blocks, each
 * in a buffer of its own, would otherwise hold every buffer).
 */
const VIEW_SHARE = 4;

export class RowBatches {
  private table: WantedTable | null = null;
  private batch: string[] = [];
  private batchLen = 0;
  private batchRows = 0;

  constructor(
    private readonly emit: (e: FilterEvent) => void,
    private readonly stats: FilterStats,
  ) {}

  begin(table: WantedTable, columns: string[]): void {
    this.table = table;
    this.emit({ type: 'begin', table, columns });
  }

  /** One row in COPY text format, without its newline. */
  add(row: string): void {
    this.batch.push(row, '\n');
    this.batchLen += row.length + 1;
    this.batchRows++;
    if (this.batchLen >= BATCH_CHARS) this.flush();
  }

  /**
   * Rows in COPY text format as bytes, each ending in "\n": buf[start, end), `count` of them, their
   * newlines at `ends` (counted from start). A view of buf when `kept` (it is never written again) and they are
   * a good part of the memory it is in (VIEW_SHARE), else a copy.
   */
  bytes(buf: Buffer, start: number, end: number, count: number, ends: number[], kept: boolean): void {
    this.flush();
    if (!count) return;
    const data = kept && (end - start) * VIEW_SHARE >= buf.buffer.byteLength ? buf.subarray(start, end) : Buffer.from(buf.subarray(start, end));
    this.emit({ type: 'bytes', table: this.table!, data, count, ends });
    this.stats.rowsKept += count;
  }

  end(): void {
    const table = this.table!;
    this.flush();
    this.table = null;
    this.emit({ type: 'end', table });
  }

  private flush(): void {
    if (!this.batchRows) return;
    this.emit({ type: 'rows', table: this.table!, data: this.batch.join(''), count: this.batchRows });
    this.stats.rowsKept += this.batchRows;
    this.batch = [];
    this.batchLen = 0;
    this.batchRows = 0;
  }
}
