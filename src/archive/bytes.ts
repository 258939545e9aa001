/**
 * Where a backup's bytes come from, so that the readers do not care: a file read by position,
 * or a stream read once (standard input, a pipe, an HTTP body). A stream can be read forward
 * only: a read at a position drops every byte before it, and the bytes sniffed at the start
 * (its first MiB) stay until a read starts past them.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RecoverError } from '../errors.js';

export interface ByteSource {
  /** How messages name the backup. */
  readonly name: string;
  /** All its bytes, when known before reading (a file's size, an HTTP Content-Length). */
  readonly size: number | undefined;
  /** Reads may go back and jump ahead cheaply (a file, HTTP with ranges). */
  readonly seekable: boolean;
  /** Each read is a round trip over a network (HTTP, S3): worth asking for the next bytes before they are needed. */
  readonly remote?: boolean;
  /** Up to len bytes at pos; fewer only at the end. */
  read(pos: number, len: number): Promise<Buffer>;
  /**
   * From now on the bytes are read from start to end (a .sql.gz, an archive without data
   * offsets): a source that can (HTTP) streams one answer rather than asking for each piece.
   */
  sequential?(): void;
}

/** An open file, by position. */
export function fileBytes(fh: FileHandle, name: string, size: number): ByteSource {
  return {
    name,
    size,
    seekable: true,
    read: (pos, len) => readAt(fh, pos, Math.max(0, Math.min(len, size - pos))),
  };
}

/** Read up to len bytes at pos; fewer only at end of file. */
async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const out = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(out, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? out : out.subarray(0, got);
}

/**
 * A source read by position over a network (HTTP ranges, S3 GETs) that a reader going from start
 * to end turns into one answer streamed (`sequential()`, `stream` opens it). From then on it is a
 * stream read once and says so (neither seekable nor remote), so nothing reads it back or ahead.
 * `extra` is the rest of what the source tells (an HTTP server's Last-Modified).
 */
export function rangedBytes<T extends object>(
  name: string,
  size: number | undefined,
  read: (pos: number, len: number) => Promise<Buffer>,
  stream: () => Readable,
  extra: T,
): ByteSource & T {
  let once: ByteSource | undefined;
  return {
    ...extra,
    name,
    size,
    get seekable() {
      return once === undefined;
    },
    get remote() {
      return once === undefined;
    },
    read: (pos, len) => (once ? once.read(pos, len) : read(pos, len)),
    sequential() {
      once ??= streamBytes(stream(), name);
    },
  };
}

/** The start of a stream that stays readable until a read starts past it: what detection sniffs, and a tar's TOC. */
const HEAD = 1024 * 1024;

/**
 * A stream read once, from its first byte. Its chunks are pulled as reads need them; only the
 * bytes from the last read's position on are kept.
 */
export function streamBytes(stream: Readable, name: string): ByteSource {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  /** The position of chunks[0]'s first byte, and of the byte after the last chunk. */
  let start = 0;
  let end = 0;
  let done = false;
  return {
    name,
    size: undefined,
    seekable: false,
    async read(pos, len) {
      if (pos < start) {
        throw new RecoverError('BACKUP_READ_ONCE', `${name} is read once, from start to end, but byte ${pos} was wanted after byte ${start}`, {
          hint: 'save the backup to a file and pass the file',
        });
      }
      // Drop what lies before pos as it comes (nothing reads back): skipping a table holds none of it.
      // The first MiB stays until a read starts past it: detection reads it, and a reader starts again from byte 0.
      const before = pos < HEAD ? 0 : pos;
      const drop = () => {
        while (chunks.length && start + chunks[0]!.length <= before) start += chunks.shift()!.length;
      };
      while (!done && end < pos + len) {
        const next = await it.next();
        if (next.done) done = true;
        else if (next.value.length) {
          chunks.push(next.value);
          end += next.value.length;
          drop();
        }
      }
      drop();
      if (!chunks.length || (done && pos >= end)) {
        // The end was read: nothing is kept for a read back.
        chunks.length = 0;
        start = end;
        return Buffer.alloc(0);
      }
      // Copied out of the chunks as they came: chunks are never merged, so past the first MiB the ones
      // kept are only those that hold pos and after (merging would keep a chunk's start, and all after it, forever).
      const out = Buffer.alloc(Math.min(len, end - pos));
      let at = start;
      let filled = 0;
      for (const c of chunks) {
        if (filled === out.length) break;
        const from = Math.max(0, pos + filled - at);
        if (from < c.length) filled += c.copy(out, filled, from, Math.min(c.length, from + out.length - filled));
        at += c.length;
      }
      return out;
    },
  };
}

/** All bytes from pos to the end, in pieces of at most `piece` bytes. */
export async function* bytesFrom(src: ByteSource, pos: number, piece: number): AsyncGenerator<Buffer> {
  src.sequential?.();
  for (;;) {
    const b = await src.read(pos, piece);
    if (!b.length) return;
    pos += b.length;
    yield b;
  }
}
