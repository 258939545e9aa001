/**
 * The commands: resolve options once, run a session, print.
 */
import { RecoverError } from '../errors.js';
import { EXPORT_FORMATS, render, writeExport, type ExportContext, type ExportFormat } from '../export/index.js';
import { newestTimestamp, type BackupSummary, type TextRecord } from '../query/index.js';
import { backupDate, withBackup, type LoadedBackup, type SessionConfig } from '../session/index.js';
import { detectBackup } from '../detect/index.js';
import { resolveBackupEncoding } from '../load/index.js';
import { table, type Console } from './console.js';

export interface CommonOptions {
  engine: 'embedded' | 'system' | 'url';
  pgBin?: string;
  /** --no-cache sets it false. */
  cache?: boolean;
  pgRestore?: string;
  databaseUrl?: string;
  timezone: string;
  backupEncoding?: string;
  quiet?: boolean;
  debug?: boolean;
}

export function sessionConfig(opts: CommonOptions, ui: Console): SessionConfig {
  let kind = opts.engine;
  if (opts.databaseUrl && kind === 'embedded') kind = 'url';
  if (kind === 'url' && !opts.databaseUrl) {
    throw new RecoverError('USAGE_NO_URL', 'usage', '--engine url needs --database-url (or RECOVER_TEXTS_DATABASE_URL)', {
      hint: 'e.g. --database-url postgresql://me@localhost/postgres',
    });
  }
  if (kind !== 'url' && opts.databaseUrl) {
    throw new RecoverError('USAGE_CONFLICT', 'usage', `--database-url cannot be used with --engine ${kind}`, { hint: 'drop one of them' });
  }
  if (opts.pgBin && kind !== 'system') {
    throw new RecoverError('USAGE_CONFLICT', 'usage', '--pg-bin goes with --engine system', { hint: 'add --engine system' });
  }
  if (!knownTimeZone(opts.timezone)) {
    throw new RecoverError('USAGE_BAD_TIMEZONE', 'usage', `unknown time zone ${JSON.stringify(opts.timezone)}`, {
      hint: 'use an IANA zone name such as UTC or Europe/London',
    });
  }
  return {
    engine: { kind, pgBin: opts.pgBin, databaseUrl: opts.databaseUrl, cache: opts.cache !== false, log: (m) => ui.note(m) },
    timezone: opts.timezone,
    pgRestore: opts.pgRestore,
    backupEncoding: opts.backupEncoding === undefined ? undefined : resolveBackupEncoding(opts.backupEncoding),
    onProgress: (done, total) => ui.progress('loading backup', done, total),
    log: (m) => ui.note(m),
  };
}

export async function exportCommand(
  backupPath: string,
  opts: CommonOptions & { user: string; format: ExportFormat; tasks?: string; out?: string; force?: boolean },
  ui: Console,
): Promise<void> {
  if (!EXPORT_FORMATS.includes(opts.format)) throw new RecoverError('USAGE_FORMAT', 'usage', `unknown format ${opts.format}`, { hint: `use one of ${EXPORT_FORMATS.join(', ')}` });
  if (opts.format === 'files' && !opts.out) {
    throw new RecoverError('USAGE_NO_OUT', 'usage', '--format files writes a folder, so it needs --out DIR', { hint: 'e.g. --out alice-texts' });
  }
  const config = sessionConfig(opts, ui);
  const wanted = opts.tasks?.split(',').map((s) => s.trim()).filter(Boolean);
  await withBackup(backupPath, config, async (b) => {
    const user = await b.query.findUser(opts.user);
    let texts: TextRecord[] = await b.query.texts(user);
    if (wanted) {
      const known = new Set((await b.query.tasks()).map((t) => t.fullName));
      const unknown = wanted.filter((w) => !known.has(w.toUpperCase()));
      if (unknown.length) {
        throw new RecoverError('USAGE_UNKNOWN_TASK', 'usage', `no task ${unknown.join(', ')} in this backup`, {
          hint: `its tasks are ${[...known].join(', ')}`,
        });
      }
      const set = new Set(wanted.map((w) => w.toUpperCase()));
      texts = texts.filter((t) => set.has(t.task_name));
    }
    ui.endProgress();
    const ctx = exportContext(backupPath, b, user.username, opts.timezone);
    if (user.username !== opts.user) ui.note(`"${opts.user}" is user ${user.username}`);
    if (!texts.length) ui.note(`${user.username} has no texts${wanted ? ' for those tasks' : ''} in this backup; the export is empty ([] for json)`);
    else {
      ui.note(
        `${user.username}: ${texts.length} text${texts.length === 1 ? '' : 's'} from the backup of ${b.date.value} (date from ${b.date.source}); newest text ${newestTimestamp(texts)} ${opts.timezone}`,
      );
    }
    if (opts.out) {
      await writeExport(opts.format, texts, opts.out, ctx, { force: !!opts.force });
      ui.note(`wrote ${opts.out}`);
    } else {
      await writeStdout(render(opts.format as 'json' | 'csv', texts));
    }
  });
}

export async function usersCommand(backupPath: string, opts: CommonOptions & { json?: boolean }, ui: Console): Promise<void> {
  await withBackup(backupPath, sessionConfig(opts, ui), async (b) => {
    const authors = await b.query.authors();
    ui.endProgress();
    if (opts.json) {
      const out = authors.map((a) => ({
        username: a.username,
        extUsername: a.extUsername,
        name: fullName(a),
        isStudent: a.isStudent,
        texts: a.texts,
        newest: a.newest,
      }));
      return writeStdout(JSON.stringify(out, null, 2) + '\n');
    }
    if (!authors.length) return ui.note('no user has any texts in this backup');
    await writeStdout(
      table(
        ['USERNAME', 'NAME', 'EXT_USERNAME', 'TEXTS', `NEWEST (${opts.timezone})`],
        authors.map((a) => [a.username + (a.isStudent === false ? ' (staff)' : ''), fullName(a), a.extUsername ?? '', String(a.texts), a.newest ?? '']),
      ),
    );
  });
}

export async function inspectCommand(backupPath: string, opts: CommonOptions & { json?: boolean }, ui: Console): Promise<void> {
  const config = sessionConfig(opts, ui);
  const backup = await detectBackup(backupPath);
  // The header is the answer to "what is this backup?" even when this machine
  // has no pg_restore able to load it; then the counts are left out.
  let loaded: { summary: BackupSummary; encoding: string | null; notUtf8: number } | null = null;
  let loadError: RecoverError | null = null;
  try {
    loaded = await withBackup(backupPath, config, async (b) => ({ summary: await b.query.summary(), encoding: b.load.encoding ?? null, notUtf8: b.load.notUtf8.length }));
  } catch (e) {
    if (!(e instanceof RecoverError && e.code === 'PG_RESTORE_TOO_OLD')) throw e;
    loadError = e;
  }
  ui.endProgress();
  const date = backupDate(backup);
  const a = backup.archive;
  const s = loaded?.summary;
  const info = {
    backup: backupPath,
    format: backup.format,
    size: backup.size,
    date: date.value,
    dateSource: date.source,
    database: backup.database ?? null,
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
    timezone: opts.timezone,
  };
  if (loadError) ui.note(`${loadError.message}: showing the header only (hint: ${loadError.hint})`);
  if (opts.json) return writeStdout(JSON.stringify(info, null, 2) + '\n');
  const rows: [string, string][] = [
    ['backup', backupPath],
    ['format', `${info.format} (${(info.size / 1e6).toFixed(1)} MB)`],
    ['backup date', `${info.date} (from ${info.dateSource})`],
    ['database', info.database ?? 'not recorded'],
    ['pg_dump version', info.pgDumpVersion ?? 'not recorded'],
    ['server version', info.serverVersion ?? 'not recorded'],
  ];
  if (info.archive) {
    const c = info.archive.compression;
    rows.push(
      ['archive version', `${info.archive.version} (${info.archive.format} format)`],
      ['compression', `${c.algorithm}${c.level !== undefined ? ` (level ${c.level})` : ''}`],
      ['dumped at', `${info.archive.dumpedAt} (the dumping machine's local time)`],
      ['TOC entries', `${info.archive.tocEntries}${info.archive.hasDataOffsets ? '' : ', no data offsets (written to a pipe; read sequentially)'}`],
    );
  }
  if (s) {
    rows.push(
      ['encoding', `${info.encoding ?? 'not set'}${info.notUtf8Fields ? ` (${info.notUtf8Fields} fields not valid UTF-8)` : ''}`],
      ['schema version', s.schemaVersion ?? 'no alembic_version'],
      ['texts table', `${s.textsTable}${s.timestampType ? `, ${s.timestampType}` : ''}`],
      ['project code', s.projectCode ?? 'not set'],
      ['users', `${s.users} (${s.students} students)`],
      ['tasks', String(s.tasks)],
      ['texts', `${s.texts} by ${s.authors} users`],
      ['newest text', `${s.newestText ?? 'none'} (${opts.timezone})`],
    );
  }
  await writeStdout(rows.map(([k, v]) => `${(k + ':').padEnd(17)}${v}`).join('\n') + '\n');
}

/** Where an export's texts came from, as the files index and notes record it. */
export function exportContext(backupPath: string, b: LoadedBackup, username: string, timezone: string): ExportContext {
  return { backup: backupPath, backupFormat: b.backup.format, backupDate: b.date.value, backupDateSource: b.date.source, username, timezone };
}

/**
 * Checked before anything loads. Intl knows the IANA zones; PostgreSQL also
 * takes POSIX forms such as UTC+3, which the query checks again after loading.
 */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return /^[A-Za-z]{3,5}([+-]\d{1,2}(:\d\d)?)?$/.test(zone);
  }
}

function fullName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}

function writeStdout(s: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(s, (e) => (e ? reject(e) : resolve())));
}
