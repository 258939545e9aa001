/**
 * The commands: resolve options once, run a session, print.
 */
import { RecoverError } from '../errors.js';
import { EXPORT_FORMATS, render, writeExport, type ExportContext, type ExportFormat } from '../export/index.js';
import { newestTimestamp, type TextRecord } from '../query/index.js';
import { withBackup, type SessionConfig } from '../session/index.js';
import { table, type Console } from './console.js';

export interface CommonOptions {
  engine: 'embedded' | 'system' | 'url';
  pgBin?: string;
  pgRestore?: string;
  databaseUrl?: string;
  timezone: string;
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
  return {
    engine: { kind, pgBin: opts.pgBin, databaseUrl: opts.databaseUrl, log: (m) => ui.note(m) },
    timezone: opts.timezone,
    pgRestore: opts.pgRestore,
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
    const ctx: ExportContext = {
      backup: backupPath,
      backupFormat: b.backup.format,
      backupDate: b.date.value,
      backupDateSource: b.date.source,
      username: user.username,
      timezone: opts.timezone,
    };
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
  await withBackup(backupPath, sessionConfig(opts, ui), async (b) => {
    const s = await b.query.summary();
    ui.endProgress();
    const info = {
      backup: backupPath,
      format: b.backup.format,
      size: b.backup.size,
      date: b.date.value,
      dateSource: b.date.source,
      database: b.backup.database ?? null,
      pgDumpVersion: b.backup.pgDumpVersion ?? null,
      serverVersion: b.backup.serverVersion ?? null,
      encoding: b.load.encoding ?? null,
      archive: b.backup.archive
        ? {
            version: b.backup.archive.version.text,
            format: b.backup.archive.format,
            compression: b.backup.archive.compression,
            dumpedAt: b.date.value,
            tocEntries: b.backup.archive.toc.length,
            hasDataOffsets: b.backup.archive.hasDataOffsets,
            intSize: b.backup.archive.intSize,
            offSize: b.backup.archive.offSize,
          }
        : null,
      schemaVersion: s.schemaVersion,
      textsTable: s.textsTable,
      timestampType: s.timestampType,
      projectCode: s.projectCode,
      users: s.users,
      students: s.students,
      tasks: s.tasks,
      texts: s.texts,
      usersWithTexts: s.authors,
      newestText: s.newestText,
      timezone: opts.timezone,
    };
    if (opts.json) return writeStdout(JSON.stringify(info, null, 2) + '\n');
    const rows: [string, string][] = [
      ['backup', backupPath],
      ['format', `${info.format} (${(info.size / 1e6).toFixed(1)} MB)`],
      ['backup date', `${info.date} (from ${info.dateSource})`],
      ['database', info.database ?? 'not recorded'],
      ['pg_dump version', info.pgDumpVersion ?? 'not recorded'],
      ['server version', info.serverVersion ?? 'not recorded'],
      ['encoding', info.encoding ?? 'not set'],
      ...(info.archive
        ? ([
            ['archive version', `${info.archive.version} (${info.archive.format} format)`],
            ['compression', `${info.archive.compression.algorithm}${info.archive.compression.level !== undefined ? ` (level ${info.archive.compression.level})` : ''}`],
            ['dumped at', `${info.archive.dumpedAt} (the dumping machine's local time)`],
            ['TOC entries', `${info.archive.tocEntries}${info.archive.hasDataOffsets ? '' : ', no data offsets (written to a pipe; read sequentially)'}`],
          ] as [string, string][])
        : []),
      ['schema version', info.schemaVersion ?? 'no alembic_version'],
      ['texts table', `${info.textsTable}${info.timestampType ? `, ${info.timestampType}` : ''}`],
      ['project code', info.projectCode ?? 'not set'],
      ['users', `${info.users} (${info.students} students)`],
      ['tasks', String(info.tasks)],
      ['texts', `${info.texts} by ${info.usersWithTexts} users`],
      ['newest text', `${info.newestText ?? 'none'} (${opts.timezone})`],
    ];
    await writeStdout(rows.map(([k, v]) => `${(k + ':').padEnd(17)}${v}`).join('\n') + '\n');
  });
}

function fullName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}

function writeStdout(s: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(s, (e) => (e ? reject(e) : resolve())));
}
