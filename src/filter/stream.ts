/** SqlFilterStream: the filter as a Transform, a thin adapter over SqlFilter (splitter.ts). */
import { Transform, type TransformCallback } from 'node:stream';
import { SqlFilter, type FilterEvent, type FilterOptions, type FilterStats } from './splitter.js';

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
