/** `inspect`: what a backup is and holds. */
import type { Command } from 'commander';
import { DATE_SOURCE_NOTE, type BackupDate } from '../detect/index.js';
import { inspectBackup, type InspectReport } from '../session/index.js';
import type { Scope } from '../scope.js';
import type { Console } from './console.js';
import { oneBackup } from './many.js';
import { addCommonOptions, resolveSession, type CommonOptions } from './options.js';
import { writeStdout, writeText } from './output.js';
import type { Runner } from './output.js';

export function registerInspect(program: Command, run: Runner, ui: Console): void {
  addCommonOptions(
    program
      .command('inspect')
      .description('what a backup is and holds: format, versions, date, counts, newest text')
      .argument('<backup>', 'plain .sql, gzipped .sql.gz, a pg_dump archive, or a folder of them (its newest)')
      .option('--json', 'machine-readable output'),
  ).action((backup: string, opts: CommonOptions & { json?: boolean }) => run((scope) => inspect(backup, opts, ui, scope)));
}

async function inspect(arg: string, opts: CommonOptions & { json?: boolean }, ui: Console, scope: Scope): Promise<void> {
  const config = resolveSession(opts, ui, scope);
  // A folder: its newest backup, as users and export take, and what else is there.
  const backup = await oneBackup(arg, { endpointUrl: opts.endpointUrl, debug: opts.debug }, ui);
  const info = await inspectBackup(backup, config);
  ui.endProgress();
  if (info.loadError) ui.note(`${info.loadError.message}: showing the header only (hint: ${info.loadError.hint})`);
  if (opts.json) return writeStdout(JSON.stringify(info, null, 2) + '\n');
  await writeText(rows(info).map(([k, v]) => `${(k + ':').padEnd(17)}${v}`).join('\n') + '\n');
}

function rows(info: InspectReport): [string, string][] {
  const out: [string, string][] = [
    ['backup', info.backup],
    // A pipe's size is not known ahead (an empty file is refused before this).
    ['format', `${info.format} (${info.size ? `${(info.size / 1e6).toFixed(1)} MB` : 'read from a pipe'})`],
    ['backup date', `${info.date} (${DATE_SOURCE_NOTE[info.dateSource as BackupDate['source']] ?? info.dateSource})`],
    ['database', info.databases ? `${info.database} (of ${info.databases.length} in this pg_dumpall file: ${info.databases.join(', ')})` : (info.database ?? 'not recorded')],
    ['pg_dump version', info.pgDumpVersion ?? 'not recorded'],
    ['server version', info.serverVersion ?? 'not recorded'],
  ];
  const a = info.archive;
  if (a) {
    const c = a.compression;
    out.push(
      ['archive version', `${a.version} (${a.format} format)`],
      ['compression', `${c.algorithm}${c.level !== undefined ? ` (level ${c.level})` : ''}`],
      ['dumped at', `${a.dumpedAt} (the dumping machine's local time)`],
      ['TOC entries', `${a.tocEntries}${a.hasDataOffsets ? '' : ', no data offsets (written to a pipe; read sequentially)'}`],
    );
  }
  if (info.loaded) {
    out.push(
      ['encoding', `${info.encoding ?? 'not set'}${info.notUtf8Fields ? ` (${info.notUtf8Fields} fields not valid UTF-8)` : ''}`],
      ['schema version', info.schemaVersion ?? 'no alembic_version'],
      ['texts table', `${info.textsTable}${info.timestampType ? `, ${info.timestampType}` : ''}`],
      // An empty setting is as good as none (it printed an empty line).
      ['project code', info.projectCode?.trim() || 'not set'],
      ['users', `${info.users} (${info.students} students)`],
      ['tasks', String(info.tasks)],
      ['texts', `${info.texts} by ${info.usersWithTexts} users`],
      ['newest text', `${info.newestText ?? 'none'} (${info.timezone})`],
    );
  }
  return out;
}
