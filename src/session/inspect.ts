/**
 * inspect: what a backup is and holds. The header is the answer to "what is
 * this backup?" even when it cannot be loaded here (an archive no pg_restore
 * on this machine reads); then the counts are left out and the reason kept.
 */
import { detectBackup, type BackupFile } from '../detect/index.js';
import { RecoverError } from '../errors.js';
import type { SessionConfig } from './config.js';
import { backupDate } from './date.js';
import { withBackup } from './one.js';

/** `from`: a path, or the backup as detection read it already. */
export async function inspectBackup(from: string | BackupFile, config: SessionConfig) {
  const backup = typeof from === 'string' ? await detectBackup(from) : from;
  const path = backup.path;
  let loaded = null;
  let loadError: RecoverError | null = null;
  try {
    loaded = await withBackup(backup, config, async (b) => ({ summary: await b.query.summary(), encoding: b.load.encoding ?? null, notUtf8: b.load.notUtf8.length, database: b.load.database }));
  } catch (e) {
    // What the backup is, even when it cannot be read without a choice: its header, and why.
    if (!(e instanceof RecoverError && (e.code === 'PG_RESTORE_TOO_OLD' || e.code === 'DATABASE_AMBIGUOUS'))) throw e;
    loadError = e;
  }
  const date = backupDate(backup);
  const a = backup.archive;
  const s = loaded?.summary;
  return {
    backup: path,
    format: backup.format,
    size: backup.size,
    date: date.value,
    dateSource: date.source,
    /** For a pg_dumpall file, the database read (the race server's, or --database). */
    database: loaded?.database?.name ?? backup.database ?? null,
    /** A pg_dumpall file's databases, in the file's order; null for a backup of one database. */
    databases: loaded?.database && loaded.database.all.length > 1 ? loaded.database.all : null,
    pgDumpVersion: backup.pgDumpVersion ?? null,
    serverVersion: backup.serverVersion ?? null,
    archive: a
      ? {
          version: a.version.text,
          format: a.format,
          compression: a.compression,
          dumpedAt: date.value,
          tocEntries: a.toc.length,
          hasDataOffsets: a.hasDataOffsets,
          intSize: a.intSize,
          offSize: a.offSize,
        }
      : null,
    loaded: !!loaded,
    loadError: loadError ? { code: loadError.code, message: loadError.message, hint: loadError.hint ?? null } : null,
    encoding: loaded?.encoding ?? null,
    /** SQL_ASCII backups: fields that are not valid UTF-8 (see README, Encodings). */
    notUtf8Fields: loaded?.notUtf8 ?? null,
    schemaVersion: s?.schemaVersion ?? null,
    textsTable: s?.textsTable ?? null,
    timestampType: s?.timestampType ?? null,
    projectCode: s?.projectCode ?? null,
    users: s?.users ?? null,
    students: s?.students ?? null,
    tasks: s?.tasks ?? null,
    texts: s?.texts ?? null,
    usersWithTexts: s?.authors ?? null,
    newestText: s?.newestText ?? null,
    timezone: config.timezone,
  };
}

export type InspectReport = Awaited<ReturnType<typeof inspectBackup>>;
