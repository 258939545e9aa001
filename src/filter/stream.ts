/** SqlFilterStream: the filter as a Transform, a thin adapter over SqlFilter (filter.ts). */
import { Transform, type TransformCallback } from 'node:stream';
import { SqlFilter } from './filter.js';
import type { FilterEvent, FilterOptions, FilterStats } from './types.js';

/** An object-mode Transform: Buffers of SQL in, FilterEvents out. */
export class SqlFilterStream extends Transform {
  private readonly core: SqlFilter;
  constructor(options: FilterOptions = {}) {
    super({ writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: 64 });
    this.core = new SqlFilter((e: FilterEvent) => this.push(e), options);
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
