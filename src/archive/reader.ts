/**
 * The native reader: a custom, tar or directory archive in, the SQL text pg_restore would print
 * for the wanted tables out (pg_backup_archiver.c RestoreArchive / _printTocEntry): the
 * ENCODING and STDSTRINGS settings, each wanted table's CREATE TABLE (its TOC entry's defn),
 * then for each its COPY statement (copyStmt) and data, which pg_dump wrote ending in "\.".
 * Only the wanted tables' data is read and decompressed; nothing else is even inflated.
 *
 * Where the data is, per format:
 *  - custom with data offsets: seek straight to each wanted block (pg_backup_custom.c
 *    _PrintTocData with K_OFFSET_POS_SET);
 *  - custom without (written to a pipe): walk the blocks from the end of the TOC in file order,
 *    skipping unwanted ones by their chunk lengths (_skipData), as pg_restore does;
 *  - directory: each table's file, NNNN.dat with the compressor's suffix (pg_backup_directory.c);
 *  - tar: each table's member (pg_backup_tar.c), after checking the whole tar is there.
 */
import { Readable } from 'node:stream';
import { fileBytes, type ByteSource } from './bytes.js';
import { BLK_DATA } from './constants.js';
import { FileCursor, WINDOW, chunkPieces, readBlockHeader, skipBlock } from './blocks.js';
import { corrupt, dataTruncated } from './damage.js';
import { decompress, type Codec } from './decompress.js';
import { findDataFile } from './directory.js';
import { withFileStream } from './file.js';
import { directoryToc } from './info.js';
import { checkTocStatements, SETTING_VARIABLE } from './statements.js';
import { listTarMembers, tarMembers } from './tar.js';
import type { ArchiveInfo, ArchiveTocEntry, CompressionAlgorithm } from './types.js';

export interface ReadOptions {
  /** The tables (in schema public) whose definitions and data are wanted. */
  tables: readonly string[];
}

/** What pg_restore prints around a dump, which the SQL filter recognises (a missing end means cut). */
const DUMP_START = '--\n-- PostgreSQL database dump\n--\n\n';
const DUMP_END = '--\n-- PostgreSQL database dump complete\n--\n\n';

/** Windows of a block asked for ahead of the reading, from a remote source (FileCursor). */
const WINDOWS_AHEAD = 3;

const CUSTOM_CODEC: Record<CompressionAlgorithm, Codec> = { none: 'none', gzip: 'zlib', lz4: 'lz4', zstd: 'zstd' };
const FILE_CODEC: Record<CompressionAlgorithm, Codec> = { none: 'none', gzip: 'gzip', lz4: 'lz4', zstd: 'zstd' };

/**
 * A byte stream of SQL for the wanted tables, from the archive at a path or from its bytes
 * (a custom or tar archive read from a stream or over HTTP). Destroying it closes the file it reads.
 */
export function readArchiveSql(from: string | ByteSource, info: ArchiveInfo, opts: ReadOptions): Readable {
  return Readable.from(archiveSql(from, info, opts), { objectMode: false, highWaterMark: 256 * 1024 });
}

function isWanted(e: ArchiveTocEntry, tables: ReadonlySet<string>): boolean {
  return e.namespace === 'public' && tables.has(e.tag);
}

/** The TABLE DATA entries whose data is read: chosen by their kind, never by a tag other entries share (pg_dump 18's STATISTICS DATA). */
function wantedData(info: ArchiveInfo, tables: ReadonlySet<string>): ArchiveTocEntry[] {
  const data = info.toc.filter((e) => e.desc === 'TABLE DATA' && isWanted(e, tables));
  // pg_dump gives every TABLE DATA entry its data (an empty table's is its \. line): an entry that
  // says it has none is a damaged TOC, and reading on would export that table as empty.
  const none = data.find((e) => e.dataState === 'none');
  if (none) throw corrupt(`TOC entry ${none.dumpId}, the data of table ${none.tag}, says it has no data, which pg_dump never writes`);
  // One archive's data is all COPY or all INSERTs (--inserts): a wanted entry without its COPY
  // statement among others with one would have its rows read as SQL.
  const noCopy = info.toc.some((e) => e.desc === 'TABLE DATA' && e.copyStmt) ? data.find((e) => !e.copyStmt) : undefined;
  if (noCopy) throw corrupt(`TOC entry ${noCopy.dumpId}, the data of table ${noCopy.tag}, has no COPY statement, unlike the archive's other data`);
  return data;
}

/** How many COPY blocks the SQL of readArchiveSql holds (INSERT-style data has none). */
export function wantedCopyBlocks(info: ArchiveInfo, tables: readonly string[]): number {
  return wantedData(info, new Set(tables)).filter((e) => e.copyStmt).length;
}

/** The settings entries pg_restore prints first (pg_backup_archiver.c _doSetFixedOutputState). */
const isSetting = (e: ArchiveTocEntry) => e.desc in SETTING_VARIABLE;

/** The file's bytes, open while fn runs; a ByteSource as it is. */
function bytesOf(from: string | ByteSource, fn: (src: ByteSource) => AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  if (typeof from !== 'string') return fn(from);
  return withFileStream(from, (fh, size) => fn(fileBytes(fh, from, size)));
}

async function* archiveSql(from: string | ByteSource, info: ArchiveInfo, opts: ReadOptions): AsyncGenerator<Buffer> {
  const tables = new Set(opts.tables);
  // Every statement passed on is checked before the first byte is.
  checkTocStatements(info.toc, (e) => isWanted(e, tables));
  yield Buffer.from(DUMP_START);
  for (const e of info.toc) if (isSetting(e) && e.defn) yield Buffer.from(e.defn + '\n');
  for (const e of info.toc) if (e.desc === 'TABLE' && isWanted(e, tables) && e.defn) yield Buffer.from(e.defn + '\n');
  const data = wantedData(info, tables);
  if (info.format === 'custom') yield* bytesOf(from, (src) => customData(src, info, data));
  else if (info.format === 'directory' && typeof from === 'string') yield* directoryData(from, data);
  else yield* bytesOf(from, (src) => tarData(src, info, data));
  yield Buffer.from(DUMP_END);
}

/** An entry's COPY statement (none for INSERT-style data), then its data. */
async function* tableData(e: ArchiveTocEntry, pieces: AsyncIterable<Buffer>, codec: Codec, where: string): AsyncGenerator<Buffer> {
  const what = `table ${e.tag} (TOC entry ${e.dumpId}) in ${where}`;
  if (!e.copyStmt) {
    yield* decompress(pieces, codec, what);
    yield Buffer.from('\n');
    return;
  }
  yield Buffer.from(e.copyStmt);
  const end = new CopyEnd(what);
  for await (const out of decompress(pieces, codec, what)) {
    end.see(out);
    yield out;
  }
  // Data cut short (a chunk length that lies, a frame that decoded to nothing) would leave the
  // COPY open, and the next table's statement would be read as this table's rows.
  if (!end.ended()) throw corrupt(`the data of ${what} does not end with pg_dump's \\. line: it is cut short`);
  yield Buffer.from('\n');
}

/**
 * COPY data as pg_dump writes it (dumpTableData_copy: the rows, the `\.` line, then empty lines;
 * pg_dump 9.0 to 18 alike). It must end with that line: newlines aside, its last bytes are `\.` at
 * a line's start. And nothing but newlines may follow the first such line: rows after it would be
 * read as SQL, and dropped. (A row never holds that line: pg_dump writes a backslash as `\\`.)
 * Only the last few bytes are kept (copied, so no decoder's buffer stays pinned).
 */
class CopyEnd {
  private static readonly KEEP = 8;
  private static readonly LINE = Buffer.from('\n\\.\n');
  private last = Buffer.alloc(0);
  private total = 0;
  /** An end line has been seen: only newlines may come. */
  private over = false;

  constructor(private readonly what: string) {}

  see(b: Buffer): void {
    if (b.length === 0) return;
    if (!this.over) {
      // The end line at the very start, across the previous piece's end, or inside this piece.
      const head = Buffer.concat([this.total === 0 ? Buffer.from('\n') : this.last.subarray(-3), b.subarray(0, 3)]);
      const across = head.indexOf(CopyEnd.LINE);
      const inside = b.indexOf(CopyEnd.LINE);
      if (across >= 0) this.endSeen(b, across + 4 - (head.length - Math.min(3, b.length)));
      else if (inside >= 0) this.endSeen(b, inside + 4);
    } else this.endSeen(b, 0);
    this.total += b.length;
    const keep = CopyEnd.KEEP;
    this.last = Buffer.from(b.length >= keep ? b.subarray(b.length - keep) : Buffer.concat([this.last, b]).subarray(-keep));
  }

  /** The end line was seen; from `from` on in `b`, only newlines. */
  private endSeen(b: Buffer, from: number): void {
    this.over = true;
    for (let i = Math.max(0, from); i < b.length; i++) {
      if (b[i] !== 0x0a) throw corrupt(`the data of ${this.what} goes on after its \\. line`);
    }
  }

  ended(): boolean {
    const kept = this.last.toString('latin1');
    const text = kept.replace(/\n+$/, '');
    if (!text.endsWith('\\.')) return false;
    const at = text.length - 2;
    // `\.` after a newline, or at the very start of the data (an empty table: "\.\n\n").
    return at > 0 ? text[at - 1] === '\n' : this.total === kept.length;
  }
}

async function* customData(src: ByteSource, info: ArchiveInfo, wanted: ArchiveTocEntry[]): AsyncGenerator<Buffer> {
  const codec = CUSTOM_CODEC[info.compression.algorithm];
  const path = src.name;
  const size = src.size ?? Infinity;
  const tocEnd = info.tocEnd;
  if (src.seekable && wanted.every((e) => e.dataState === 'offset')) {
    // Each block ends where the next one starts: a read never goes past it (over HTTP, no byte more is fetched).
    const starts = info.toc.filter((e) => e.dataState === 'offset').map((e) => Number(e.dataOffset)).sort((a, b) => a - b);
    for (const e of wanted) {
      const at = Number(e.dataOffset);
      if (at < tocEnd) throw corrupt(`the TOC says the data of TOC entry ${e.dumpId} starts at byte ${at}, inside the TOC (which ends at byte ${tocEnd})`);
      if (at >= size) throw dataTruncated(path, size, `the data of TOC entry ${e.dumpId} should start at byte ${at}`);
      // Read by position over a network (HTTP, S3: a round trip per read), the block's next windows are asked for ahead.
      const c = new FileCursor(src, info.intSize, at, starts.find((s) => s > at), src.remote ? WINDOWS_AHEAD : 0);
      const block = await readBlockHeader(c);
      if (block === null || block.dumpId !== e.dumpId || block.type !== BLK_DATA) {
        throw corrupt(`expected the data block of TOC entry ${e.dumpId} at byte ${at} of ${path}, found ${block ? `a block of entry ${block.dumpId}` : 'none'}`);
      }
      yield* tableData(e, chunkPieces(c, `TOC entry ${e.dumpId}`), codec, path);
    }
    return;
  }
  // No offsets (written to a pipe), or bytes read once: walk the blocks in their order, as pg_restore must.
  src.sequential?.();
  const byId = new Map(wanted.map((e) => [e.dumpId, e]));
  const c = new FileCursor(src, info.intSize, tocEnd);
  while (byId.size > 0) {
    const block = await readBlockHeader(c);
    if (block === null) {
      const missing = [...byId.values()][0]!;
      throw dataTruncated(path, c.pos, `no data block for table ${missing.tag} (TOC entry ${missing.dumpId}) before the end`);
    }
    const e = byId.get(block.dumpId);
    if (e === undefined || block.type !== BLK_DATA) {
      await skipBlock(c, block);
      continue;
    }
    byId.delete(block.dumpId);
    yield* tableData(e, chunkPieces(c, `TOC entry ${e.dumpId}`), codec, path);
  }
}

/** `size` bytes from `start` of a backup's bytes, in pieces of at most WINDOW bytes. */
async function* byteRange(src: ByteSource, start: number, size: number): AsyncGenerator<Buffer> {
  for (let pos = start; pos < start + size; ) {
    const piece = await src.read(pos, Math.min(WINDOW, start + size - pos));
    if (piece.length === 0) throw dataTruncated(src.name, src.size ?? pos, `expected ${size} bytes from byte ${start}`);
    pos += piece.length;
    yield piece;
  }
}

async function* directoryData(dir: string, wanted: ArchiveTocEntry[]): AsyncGenerator<Buffer> {
  await directoryToc(dir);
  for (const e of wanted) {
    const file = await findDataFile(dir, e);
    yield* withFileStream(
      file.path,
      async function* (fh, size) {
        yield* tableData(e, byteRange(fileBytes(fh, file.path, size), 0, size), FILE_CODEC[file.compression], file.path);
      },
      dir,
    );
  }
}

async function* tarData(src: ByteSource, info: ArchiveInfo, wanted: ArchiveTocEntry[]): AsyncGenerator<Buffer> {
  const path = src.name;
  /** An entry's member: NNNN.dat, or NNNN.dat.gz (pg_dump before 15 could gzip tar members, pg_backup_tar.c). */
  const memberOf = (e: ArchiveTocEntry, name: string) => (name === e.dataFile ? 'none' : name === `${e.dataFile}.gz` ? 'gzip' : undefined);
  if (!src.seekable) {
    // Read once: the members in their order, the wanted ones read as they pass.
    const left = new Set(wanted);
    for await (const m of tarMembers(src, 0)) {
      const e = [...left].find((w) => memberOf(w, m.name));
      if (!e) continue;
      left.delete(e);
      yield* tableData(e, byteRange(src, m.dataStart, m.size), memberOf(e, m.name)!, path);
    }
    const e = [...left][0];
    if (e) throw corrupt(`the tar backup ${path} has no member ${(e.dataFile ?? '').slice(0, 60)} (the data of table ${e.tag}, TOC entry ${e.dumpId})`);
    return;
  }
  // Listed (and checked whole) by checkArchiveData; walked here only when it was not called.
  const members = info.tarMembers ?? (await listTarMembers(src));
  for (const e of wanted) {
    const name = e.dataFile ?? '';
    const m = members.get(name) ?? members.get(`${name}.gz`);
    if (m === undefined) throw corrupt(`the tar backup ${path} has no member ${name.slice(0, 60)} (the data of table ${e.tag}, TOC entry ${e.dumpId})`);
    yield* tableData(e, byteRange(src, m.dataStart, m.size), memberOf(e, m.name)!, path);
  }
}
