/**
 * source: any backup in, a byte stream of plain SQL out.
 * Plain files are streamed; gzip through zlib; archives through pg_restore
 * (see archive.ts). Bytes read from disk are reported for progress.
 */
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RecoverError } from '../errors.js';
import type { BackupFile } from '../detect/index.js';

export interface SqlSource {
  /** Streams to put at the head of a pipeline; the last one yields SQL bytes. */
  streams: [Readable, ...Transform[]];
  /** Turn a stream error into a user-facing one. */
  explain(e: unknown): RecoverError | undefined;
}

export function openSql(backup: BackupFile, onBytes: (n: number) => void = () => {}): SqlSource {
  switch (backup.format) {
    case 'plain':
      return { streams: countingRead(backup.path, onBytes), explain: () => undefined };
    case 'gzip':
      return {
        streams: [...countingRead(backup.path, onBytes), createGunzip()],
        explain: (e) => explainZlib(e, backup.path),
      };
    default:
      throw new RecoverError('BACKUP_FORMAT_UNSUPPORTED', 'unsupported', `${backup.path} is a pg_dump ${backup.format} archive, which this version cannot load yet`, {
        hint: 'restore it to plain SQL with pg_restore -f backup.sql, and pass that file',
      });
  }
}

/**
 * The file, read lazily: nothing flows until the pipeline starts (the engine
 * may take a moment to start first). Bytes are counted as they pass.
 */
function countingRead(path: string, onBytes: (n: number) => void): [Readable, Transform] {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  return [createReadStream(path, { highWaterMark: 256 * 1024 }), counter];
}

function explainZlib(e: unknown, path: string): RecoverError | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'Z_BUF_ERROR') {
    return new RecoverError('BACKUP_TRUNCATED', 'badBackup', `${path} is a truncated gzip file (it ends before the compressed data does)`, {
      hint: 'copy the backup again, or pick an older one',
      cause: e,
    });
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR') {
    return new RecoverError('BACKUP_CORRUPT', 'badBackup', `${path} is a damaged gzip file: ${(e as Error).message}`, {
      hint: 'copy the backup again, or pick an older one',
      cause: e,
    });
  }
  return undefined;
}
