/** Opening a backup as a stream of SQL: plain files, gzip, and archives (natively, or with pg_restore on request). */
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import type { BackupFile } from '../detect/index.js';
import { bytesFrom, checkArchiveData, readArchiveInfo, readArchiveSql, wantedCopyBlocks } from '../archive/index.js';
import { WANTED_TABLES } from '../filter/index.js';
import { isUrl } from '../remote/index.js';
import { explicitPgRestore, findPgRestore, restoreStream, type PgRestore } from './pg-restore.js';

/** Read and inflate size: large enough that per-chunk costs vanish, small enough for memory. */
const CHUNK = 1024 * 1024;

export interface SqlSource {
  /** Streams to put at the head of a pipeline; the last one yields SQL bytes. */
  streams: [Readable, ...Transform[]];
  /** Turn a stream error into a user-facing one. */
  explain(e: unknown): RecoverError | undefined;
  /** The pg_restore used for an archive, when --pg-restore asked for one. */
  pgRestore?: PgRestore;
  /**
   * How many COPY blocks of wanted tables the SQL holds, when the source knows it (an archive
   * read natively: one per wanted TABLE DATA entry with a COPY statement). The load checks that
   * exactly these were read, so one table's data never swallows the next's unnoticed.
   */
  copyBlocks?: number;
  /**
   * The last stream's chunks are never written again once passed on (node:zlib's output: slices
   * of a buffer filled once, front to back; a file's reads: a new Buffer each), so the filter may
   * keep views of them (FilterOptions.chunksKept).
   */
  chunksKept?: boolean;
}

export interface SourceOptions {
  /** --pg-restore: read archives with this pg_restore instead of natively; its temp list is registered with the run's scope. */
  pgRestore?: { path: string; scope: Scope };
  onBytes?: (n: number) => void;
}

/** Open the backup as SQL. Archives are checked (header, TOC, data all there) before anything starts. */
export async function openSql(backup: BackupFile, opts: SourceOptions = {}): Promise<SqlSource> {
  const onBytes = opts.onBytes ?? (() => {});
  switch (backup.format) {
    case 'plain':
      // A file's reads are new Buffers each (fs.ReadStream); a URL's or an S3 object's pieces may not be.
      return { streams: countingRead(backup, onBytes), explain: () => undefined, chunksKept: !backup.bytes };
    case 'gzip':
      return {
        // Inflating in 1 MiB pieces rather than zlib's 16 KiB: a tenth of the
        // calls into zlib and through the pipeline, almost twice as fast.
        streams: [...countingRead(backup, onBytes), createGunzip({ chunkSize: CHUNK })],
        explain: (e) => explainZlib(e, backup.bytes?.name ?? backup.path),
        // Each output chunk is a slice past the last of its buffer; a full one is replaced, not reused.
        chunksKept: true,
      };
    case 'custom':
    case 'tar':
    case 'directory': {
      if (opts.pgRestore) return viaPgRestore(backup, opts.pgRestore, onBytes);
      if (backup.newerArchive) throw backup.newerArchive;
      if (backup.bytes && backup.archive) {
        // Read once: the reader walks the data in its order, and finds a cut as it goes.
        const sql = readArchiveSql(backup.bytes, backup.archive, { tables: WANTED_TABLES });
        return { streams: [sql, byteCounter(onBytes)], explain: () => undefined, copyBlocks: wantedCopyBlocks(backup.archive, WANTED_TABLES) };
      }
      const archive = await checkArchiveData(backup.path, backup.archive ?? (await readArchiveInfo(backup.path)));
      const sql = readArchiveSql(backup.path, archive, { tables: WANTED_TABLES });
      return { streams: [sql, byteCounter(onBytes)], explain: () => undefined, copyBlocks: wantedCopyBlocks(archive, WANTED_TABLES) };
    }
  }
}

/** The old way, on request: pg_restore writes the SQL. */
async function viaPgRestore(backup: BackupFile, { path: explicit, scope }: { path: string; scope: Scope }, onBytes: (n: number) => void): Promise<SqlSource> {
  if (backup.bytes) {
    throw new RecoverError('BACKUP_READ_ONCE', `--pg-restore reads an archive from a file, and ${backup.bytes.name} is ${isUrl(backup.path) ? 'a URL' : backup.bytes.seekable ? 'an S3 object' : 'a pipe'}`, {
      hint: 'leave out --pg-restore (the archive is read natively), or save the backup to a file first',
    });
  }
  let tool: PgRestore;
  if (backup.archive) {
    // Before pg_restore: it reads only the wanted blocks, and spins forever on some cut tars.
    await checkArchiveData(backup.path, backup.archive);
    tool = findPgRestore(backup.archive, explicit);
  } else {
    tool = explicitPgRestore(explicit);
  }
  const restored = await restoreStream(backup.path, backup.archive, tool, scope);
  return { streams: [restored, byteCounter(onBytes)], explain: () => undefined, pgRestore: tool };
}

/**
 * The file, read lazily: nothing flows until the pipeline starts (the engine
 * may take a moment to start first). Bytes are counted as they pass.
 */
function countingRead(backup: BackupFile, onBytes: (n: number) => void): [Readable, Transform] {
  // Read once: from the first byte, the sniffed ones included.
  const input = backup.bytes ? Readable.from(bytesFrom(backup.bytes, 0, CHUNK), { objectMode: false }) : createReadStream(backup.path, { highWaterMark: CHUNK });
  return [input, byteCounter(onBytes)];
}

/** A pass-through stage that reports the bytes going by, for progress. */
function byteCounter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

function explainZlib(e: unknown, path: string): RecoverError | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'Z_BUF_ERROR') {
    return new RecoverError('BACKUP_TRUNCATED', `${path} is a truncated gzip file (it ends before the compressed data does)`, {
      hint: 'copy the backup again, or pick an older one',
      cause: e,
    });
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR') {
    return new RecoverError('BACKUP_CORRUPT', `${path} is a damaged gzip file: ${(e as Error).message}`, {
      hint: 'copy the backup again, or pick an older one',
      cause: e,
    });
  }
  return undefined;
}
