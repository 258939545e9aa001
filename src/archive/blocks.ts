/**
 * The data blocks of a custom archive (src/bin/pg_dump/pg_backup_custom.c): _StartData writes
 * a block-type byte (BLK_DATA, or BLK_BLOBS for large objects) and WriteInt(dumpId); the
 * compressor then writes the table's data as chunks, each WriteInt(length) and the bytes
 * (_CustomWriteFunc); _EndData writes WriteInt(0). A BLK_BLOBS block holds, per large object,
 * WriteInt(oid) and its chunks up to a zero length, and ends with WriteInt(0) (_StartLOs,
 * _StartLO, _EndLO, _EndLOs). _ReadBlockHeader / _skipData / _skipLOs read them back.
 *
 * Read through a bounded window: nothing here allocates more than two WINDOWs at once (and, read
 * ahead, that many more on their way), whatever a length in the file claims; every length is
 * checked against the file's size first.
 */
import type { ByteSource } from './bytes.js';
import { BLK_BLOBS, BLK_DATA } from './constants.js';
import { decodeInt } from './cursor.js';
import { corrupt, dataTruncated } from './damage.js';

/** The largest read at once; chunks longer than this are handed on in pieces. */
export const WINDOW = 1024 * 1024;

/**
 * A forward-reading cursor over a backup's bytes, through a window of at most WINDOW bytes
 * (never past `end`, where the caller knows the block ends). Its size is the source's, when
 * known; a stream's end is found by reading. With `ahead` (a source where every read is a round
 * trip: HTTP with ranges, S3), the next windows up to `end`, `ahead` of them, are asked for as
 * soon as one is taken, so that their round trips overlap the inflating of this one's bytes: no
 * byte past `end` is asked for.
 */
export class FileCursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufAt = 0;
  /** The windows asked for ahead, in order, each starting where the one before ends. */
  private next: { at: number; len: number; got: Promise<Buffer> }[] = [];
  readonly size: number;
  readonly path: string;
  constructor(
    private readonly src: ByteSource,
    private readonly intSize: number,
    public pos: number,
    private readonly end = Infinity,
    private readonly ahead = 0,
  ) {
    this.size = src.size ?? Infinity;
    this.path = src.name;
  }

  /** n bytes (n <= WINDOW) at the cursor; a backup that ends first is truncated. */
  async take(n: number, what: string): Promise<Buffer> {
    if (this.pos + n > this.size) throw dataTruncated(this.path, this.size, what);
    if (this.pos < this.bufAt || this.pos + n > this.bufAt + this.buf.length) {
      const limit = Math.max(this.pos + n, Math.min(this.end, this.size));
      const bufEnd = this.bufAt + this.buf.length;
      if (this.next[0]?.at === bufEnd && this.pos >= this.bufAt && this.pos <= bufEnd) {
        // Forward: what is left of this window, then the windows read ahead, as far as n needs.
        const parts = [this.buf.subarray(this.pos - this.bufAt)];
        let have = parts[0]!.length;
        while (have < n && this.next[0]?.at === this.pos + have) {
          const piece = await this.next.shift()!.got;
          parts.push(piece);
          have += piece.length;
          if (!piece.length) break;
        }
        if (have < n) parts.push(await this.src.read(this.pos + have, Math.min(Math.max(n - have, WINDOW), limit - this.pos - have)));
        this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      } else {
        this.next = [];
        this.buf = await this.src.read(this.pos, Math.min(Math.max(n, WINDOW), limit - this.pos));
      }
      this.bufAt = this.pos;
      if (this.buf.length < n) throw dataTruncated(this.path, this.pos + this.buf.length, what);
      this.readAhead(Math.min(this.end, this.size));
    }
    const out = this.buf.subarray(this.pos - this.bufAt, this.pos - this.bufAt + n);
    this.pos += n;
    return out;
  }

  /** Ask for the windows after the one held, up to `limit`, while fewer than `ahead` are on their way. */
  private readAhead(limit: number): void {
    const last = this.next.at(-1);
    for (let at = last ? last.at + last.len : this.bufAt + this.buf.length; this.next.length < this.ahead && at < limit; ) {
      const len = Math.min(WINDOW, limit - at);
      const got = this.src.read(at, len);
      got.catch(() => {}); // taken, or let go unread
      this.next.push({ at, len, got });
      at += len;
    }
  }

  /** ReadInt (pg_backup_archiver.c). */
  async int(what: string): Promise<number> {
    return decodeInt(await this.take(1 + this.intSize, what), 0, this.intSize);
  }

  /** Move past n bytes without reading them. */
  skip(n: number, what: string): void {
    if (this.pos + n > this.size) throw dataTruncated(this.path, this.size, what);
    this.pos += n;
  }

  /** Nothing more to read (a stream's end is known only by trying). */
  async atEnd(): Promise<boolean> {
    if (this.pos >= this.size) return true;
    if (this.pos < this.bufAt + this.buf.length && this.pos >= this.bufAt) return false;
    if (this.src.size !== undefined) return false;
    return (await this.src.read(this.pos, 1)).length === 0;
  }
}

export interface BlockHeader {
  type: number;
  dumpId: number;
  /** Where the block starts. */
  at: number;
}

/** _ReadBlockHeader: the block type byte and the dump ID; null at the end of the file. */
export async function readBlockHeader(c: FileCursor): Promise<BlockHeader | null> {
  if (await c.atEnd()) return null;
  const at = c.pos;
  const what = `the data block header at byte ${at}`;
  const type = (await c.take(1, what))[0] as number;
  if (type !== BLK_DATA && type !== BLK_BLOBS) {
    throw corrupt(`expected a data block (type ${BLK_DATA} or ${BLK_BLOBS}) at byte ${at} of ${c.path}, found block type ${type}`);
  }
  const dumpId = await c.int(what);
  if (dumpId <= 0) throw corrupt(`expected a positive dump ID in the data block at byte ${at} of ${c.path}, found ${dumpId}`);
  return { type, dumpId, at };
}

/**
 * The compressed bytes of one table's data (or one large object's), in file order, as pieces
 * of at most WINDOW bytes; stops after the zero length that ends them.
 */
export async function* chunkPieces(c: FileCursor, what: string): AsyncGenerator<Buffer> {
  for (;;) {
    const at = c.pos;
    const len = await c.int(`a chunk length of ${what}`);
    if (len === 0) return;
    if (len < 0) throw corrupt(`a chunk of ${what} at byte ${at} of ${c.path} has length ${len}`);
    if (c.pos + len > c.size) throw dataTruncated(c.path, c.size, `a chunk of ${what} at byte ${at} needs ${len} bytes`);
    for (let left = len; left > 0; ) {
      const n = Math.min(left, WINDOW);
      yield await c.take(n, what);
      left -= n;
    }
  }
}

/** Skip chunks up to the zero length, reading only their lengths (_skipData). */
async function skipChunks(c: FileCursor, what: string): Promise<void> {
  for (;;) {
    const at = c.pos;
    const len = await c.int(`a chunk length of ${what}`);
    if (len === 0) return;
    if (len < 0) throw corrupt(`a chunk of ${what} at byte ${at} of ${c.path} has length ${len}`);
    c.skip(len, `a chunk of ${what} at byte ${at} needs ${len} bytes`);
  }
}

/** Skip the rest of a block whose header was read: _skipData, or _skipLOs for BLK_BLOBS. */
export async function skipBlock(c: FileCursor, block: BlockHeader): Promise<void> {
  const what = `the data block of TOC entry ${block.dumpId} (from byte ${block.at})`;
  if (block.type === BLK_DATA) return skipChunks(c, what);
  // One OID, then its chunks, per large object; OID 0 ends the block.
  while ((await c.int(`a large object OID of ${what}`)) !== 0) await skipChunks(c, what);
}
