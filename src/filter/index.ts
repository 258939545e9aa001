/**
 * filter: a stream of plain SQL (bytes) in, the wanted tables' rows out.
 * The state machine lives in splitter.ts; this is the stream adapter.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SqlFilter, type FilterEvent, type FilterStats } from './splitter.js';

export { SqlFilter, copyField, type FilterEvent, type FilterStats } from './splitter.js';
export { WANTED_COLUMNS, WANTED_TABLES, KEPT_SETTINGS, type WantedTable } from './tables.js';
export type { ColumnDef } from './statements.js';

/** An object-mode Transform: Buffers of SQL in, FilterEvents out. */
export class SqlFilterStream extends Transform {
  private readonly core: SqlFilter;
  constructor() {
    super({ writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: 64 });
    this.core = new SqlFilter((e: FilterEvent) => this.push(e));
  }
  get stats(): FilterStats {
    return this.core.stats;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.core.push(chunk);
      done();
    } catch (e) {
      done(e as Error);
    }
  }
  override _flush(done: TransformCallback): void {
    try {
      this.core.end();
      done();
    } catch (e) {
      done(e as Error);
    }
  }
}
