/**
 * One table's data, decompressed as one stream. pg_dump compresses each table's data as ONE
 * stream and cuts it into chunks at arbitrary places (pg_backup_custom.c _CustomWriteFunc), so
 * every chunk goes into the same decompressor, never one per chunk.
 *  - gzip in a custom archive is a zlib stream (compress_gzip.c: deflateInit, not a gzip
 *    header); a directory archive's .dat.gz is a gzip file (gzopen). Node's zlib streams apply
 *    backpressure, so a block that inflates without end streams with bounded memory.
 *  - lz4 is one LZ4F frame (compress_lz4.c), zstd one frame (compress_zstd.c): decoded by
 *    lz4.ts and zstd.ts, which hand back one block at a time: the next block is decoded only
 *    when the consumer asks for more.
 */
import { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { RecoverError } from '../errors.js';
import { corrupt, HINT_TRUNCATED } from './damage.js';
import { Lz4FrameDecoder } from './lz4.js';
import { ZstdDecoder } from './zstd.js';

/** How a table's bytes are stored: zlib (custom gzip) and gzip (directory .gz files) differ. */
export type Codec = 'none' | 'zlib' | 'gzip' | 'lz4' | 'zstd';

/** Decompress one table's data, read as pieces in order; yields the plain bytes. */
export async function* decompress(pieces: AsyncIterable<Buffer>, codec: Codec, what: string): AsyncGenerator<Buffer> {
  switch (codec) {
    case 'none':
      return yield* pieces;
    case 'zlib':
    case 'gzip':
      return yield* viaZlib(pieces, codec, what);
    case 'lz4':
    case 'zstd':
      return yield* viaDecoder(pieces, codec === 'lz4' ? new Lz4FrameDecoder(what) : new ZstdDecoder(what));
  }
}

async function* viaDecoder(pieces: AsyncIterable<Buffer>, dec: { push(b: Buffer): Iterable<Buffer>; end(): void }): AsyncGenerator<Buffer> {
  let fed = false;
  for await (const piece of pieces) {
    fed ||= piece.length > 0;
    for (const out of dec.push(piece)) yield out;
  }
  // A table with no rows may have no compressed bytes at all.
  if (fed) dec.end();
}

async function* viaZlib(pieces: AsyncIterable<Buffer>, codec: 'zlib' | 'gzip', what: string): AsyncGenerator<Buffer> {
  const iterator = pieces[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return; // no bytes: an empty table
  // 1 MiB output pieces, as for .sql.gz (source/open.ts): zlib's 16 KiB ones cost more in passing them on than in inflating.
  const z = codec === 'zlib' ? createInflate({ chunkSize: 1024 * 1024 }) : createGunzip({ chunkSize: 1024 * 1024 });
  const src = Readable.from(
    (async function* () {
      yield first.value;
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
    })(),
    { objectMode: false },
  );
  src.on('error', (e) => z.destroy(e));
  src.pipe(z);
  try {
    for await (const out of z) yield out as Buffer;
  } catch (e) {
    if (e instanceof RecoverError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') {
      throw new RecoverError('ARCHIVE_TRUNCATED', `the ${codec} data of ${what} ends before its compressed stream does`, { hint: HINT_TRUNCATED });
    }
    throw corrupt(`the ${codec} data of ${what} is damaged (${(e as Error).message})`);
  } finally {
    src.destroy();
    z.destroy();
    await iterator.return?.();
  }
}
