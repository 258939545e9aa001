/** What the commands over many backups (history, merge, and the folder-taking users/export) share. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { copiesNote, parseDateBound, selectBackups, tieNote, type BackupFile, type BackupTie, type DateRange, type DetectOptions } from '../detect/index.js';
import type { BackupSet, ManyConfig } from '../session/index.js';
import type { Scope } from '../scope.js';
import { backupName, endpointOption } from '../remote/index.js';
import { visible } from '../terminal.js';
import type { Console } from './console.js';
import { resolveS3, resolveSession, type CommonOptions } from './options.js';

export interface RangeOptions {
  since?: string;
  until?: string;
}

/** --since/--until: the backups of those days, from the files and folders given. */
export function addRangeOptions(cmd: Command): Command {
  return cmd
    .option('--since <date>', 'only backups of this day (YYYY-MM-DD) or later', (v: string) => parseDateBound('--since', v))
    .option('--until <date>', 'only backups of this day (YYYY-MM-DD) or earlier', (v: string) => parseDateBound('--until', v));
}

/** Backups left out of the date range named one by one, at most (more: the first two and the last). */
const MAX_NAMES_SAID = 6;

/**
 * The backups named and found in the folders given, oldest first: a folder's
 * members that are not backups are listed and skipped; a named file that is
 * missing or not a backup fails here, before anything starts. Each is
 * returned as read here, so the session reads none of it again.
 */
export async function selectFromArgs(
  args: readonly string[],
  range: DateRange & Pick<CommonOptions, 'debug' | 'endpointUrl'>,
  ui: Console,
): Promise<{ backups: BackupFile[]; optional: Set<string>; damaged: BackupFailureNote[]; newestTie: BackupTie | undefined }> {
  ui.step('reading backups');
  const s = await selectBackups(args, range, [], readingOptions(range, args, ui));
  for (const x of s.skipped.filter((k) => k.kind === 'not a backup' || k.kind === 'damaged')) ui.note(`skipped ${x.reason.startsWith(x.path) ? x.reason : `${visible(x.path)}: ${x.reason}`}`);
  // The tool's own files beside the backups (the upload JSON the steps wrote, a report): expected there, said only with --debug.
  if (range.debug) for (const x of s.skipped.filter((k) => k.kind === 'own output')) ui.note(`skipped ${visible(x.path)}: ${x.reason}`);
  for (const c of s.copies) ui.note(copiesNote(c));
  for (const t of s.ties) ui.warn(tieNote(t));
  const out = s.skipped.filter((k) => k.kind === 'out of range');
  if (out.length) {
    // A year's folder with a week asked for leaves out hundreds: their names only with --debug.
    const names = out.map((x) => basename(x.path));
    const shown = range.debug || names.length <= MAX_NAMES_SAID ? names.join(', ') : `${names.slice(0, 2).join(', ')}, ... ${names.at(-1)}; --debug lists all`;
    ui.note(`left out ${out.length} backup${out.length === 1 ? '' : 's'} not in the date range (${shown})`);
  }
  return {
    backups: s.backups.map((b) => b.backup),
    optional: new Set(s.backups.filter((b) => !b.named).map((b) => b.path)),
    // An empty or cut-off night in the folder: the report says it too, beside the backups that failed to load.
    damaged: s.skipped.filter((k) => k.kind === 'damaged').map((k) => ({ path: k.path, code: k.code!, message: k.reason })),
    // The newest shares its date with others: which of them is the newest is unknown.
    newestTie: s.ties.find((t) => t.paths.includes(s.backups.at(-1)!.path)),
  };
}

/**
 * One backup from a file or a folder: a folder gives its newest (before --before), said on
 * stderr with what else the folder holds, and which copies of a night were set aside.
 */
export async function oneBackup(arg: string, opts: Pick<CommonOptions, 'endpointUrl' | 'debug'> & { before?: string }, ui: Console): Promise<BackupFile> {
  const before = opts.before;
  const s = await selectBackups([arg], { before }, [], readingOptions(opts, [arg], ui));
  const chosen = s.backups.at(-1)!;
  if (!chosen.named || before) {
    const n = s.backups.length;
    ui.note(
      `using ${chosen.path} (${chosen.date.value}), the newest backup${before ? ` before ${before}` : ''} in ${backupName(arg)}` +
        (n > 1 ? `; the folder holds ${n} backups from ${s.backups[0]!.date.value} on: name another by its path, or follow a student across all with history` : ''),
    );
    for (const c of s.copies) ui.note(copiesNote(c));
    // The newest of several that share its date: which is newest is unknown.
    for (const t of s.ties.filter((x) => x.paths.includes(chosen.path))) ui.warn(tieNote(t));
  }
  return chosen.backup;
}

/**
 * The options a printed command repeats so that it reads `backups` as this run did: the date range
 * (for a command over many backups), the session zone when not UTC, a pg_dumpall file's database,
 * a SQL_ASCII backup's encoding, and the store s3:// backups are in.
 */
export function passedOn(opts: RangeOptions & Pick<CommonOptions, 'endpointUrl' | 'timezone' | 'database' | 'backupEncoding'>, backups: readonly string[], withRange = true): string[] {
  return [
    ...(withRange && opts.since ? ['--since', opts.since] : []),
    ...(withRange && opts.until ? ['--until', opts.until] : []),
    ...(opts.timezone && opts.timezone !== 'UTC' ? ['--timezone', opts.timezone] : []),
    ...(opts.database ? ['--database', opts.database] : []),
    ...(opts.backupEncoding ? ['--backup-encoding', opts.backupEncoding] : []),
    ...endpointOption(opts.endpointUrl, backups),
  ];
}

/** How `args` are read: with --debug, how a backup over HTTP or S3 is read (a server without ranges, a dropped connection taken up again); where s3:// ones are. */
export function readingOptions(opts: Pick<CommonOptions, 'endpointUrl' | 'debug'>, args: readonly string[], ui: Console): DetectOptions {
  return { ...(opts.debug ? { debug: (m: string) => ui.debug(visible(m)) } : {}), s3: resolveS3(opts, args) };
}

export function manyConfig(opts: CommonOptions & { jobs?: number }, ui: Console, scope: Scope, optional?: ReadonlySet<string>): ManyConfig {
  return { ...resolveSession(opts, ui, scope), onProgress: undefined, onBackup: (e) => ui.backupProgress(e), concurrency: opts.jobs, optional };
}

/** A backup that was skipped: its path, its error's code, and the message naming it. */
export interface BackupFailureNote {
  path: string;
  code: string;
  message: string;
}

/** Say which backups found in a folder did not load, and return them for the report. */
export function noteFailures(set: Pick<BackupSet, 'loaded' | 'failed'>, ui: Console): BackupFailureNote[] {
  // Each message names its backup (session/naming.ts).
  for (const f of set.failed) ui.warn(`skipped: ${f.error.message}`);
  if (set.failed.length) ui.note(`${set.loaded.length} of ${set.loaded.length + set.failed.length} backups loaded`);
  return set.failed.map((f) => ({ path: f.path, code: f.error.code, message: f.error.message }));
}
