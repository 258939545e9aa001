/**
 * The backups a command is given: files named one by one, and folders of
 * nightly backups (the docs' cron writes /buggy/server/db/backups/
 * buggy_race_bk_YYYYMMDD.sql.gz). A folder's members are recognised by their
 * bytes; what is not a backup is listed and skipped. A named file must be a
 * backup, or the command fails: the admin chose it, and leaving it out would
 * silently change what the upload restores. Then the chosen date range.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isLocalFileError, RecoverError, type ErrorCode } from '../errors.js';
import { kindOf } from '../archive/index.js';
import { backupDate, dateFromName, DATE_SOURCE_NOTE, isLater, type BackupDate } from './date.js';
import { setCopiesAside, type BackupCopies } from './copies.js';
import { assertBackupPathExists, detectBackup, detectS3Object, STDIN_ARG, type BackupFile, type DetectOptions } from './detect.js';
import { backupName, isS3Url, isUrl, openS3, parseS3Url, s3Folder, type S3Object, type S3Store } from '../remote/index.js';
import { ownOutputKind } from './own.js';
import { pool } from '../pool.js';

/** Why a folder member that cannot be opened is passed over, by its error; any other error stops the run. */
const SKIPPED_ERRNO: Readonly<Record<string, string>> = {
  EACCES: 'cannot be read by you',
  EPERM: 'cannot be read by you',
  ENOENT: 'gone before it was read',
};

export interface SelectedBackup {
  path: string;
  /** What detection read (format, dates, an archive's header and TOC): the session loads this, reading none of it again. */
  backup: BackupFile;
  date: BackupDate;
  /** Named on the command line (it must load), rather than found in a folder (it may be skipped). */
  named: boolean;
}

export interface BackupSelection {
  /** Oldest first, by each backup's own date, then path. */
  backups: SelectedBackup[];
  /**
   * Folder members that are not backups, with why; backups that are damaged
   * (an empty night: the backup job failed), with their error's code; the
   * tool's own outputs; and backups outside the date range.
   */
  skipped: { path: string; reason: string; kind: 'not a backup' | 'damaged' | 'own output' | 'out of range'; code?: ErrorCode }[];
  /** Backups found more than once (the same dump in several formats): the one read, and the copies set aside. */
  copies: BackupCopies[];
  /**
   * Backups among those selected that share one date and clock (tiesIn): which came first is
   * unknown, and they are taken by path. Copied without their times (cp
   * without -p), a folder's backups dated by their modification times all share one.
   */
  ties: BackupTie[];
}

export interface BackupTie {
  date: BackupDate;
  /** Oldest first as taken: by path. */
  paths: string[];
}

/** Dates as YYYY-MM-DD, already checked with parseDateBound. */
export interface DateRange {
  /** On or after this day. */
  since?: string;
  /** On or before this day. */
  until?: string;
  /** Only the newest backup strictly before this day. */
  before?: string;
}

/** Check a --since/--until/--before value: a real calendar day, YYYY-MM-DD. */
export function parseDateBound(flag: string, value: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(value.trim());
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !day || day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) {
    throw new RecoverError('USAGE_BAD_DATE', `${flag} ${JSON.stringify(value)} is not a date`, { hint: `give it as YYYY-MM-DD, e.g. ${flag} 2026-03-10` });
  }
  return m[0];
}

/** Why a folder member was skipped: a folder inside is not searched. */
const FOLDER_INSIDE = 'a folder (folders are not searched inside)';

/**
 * Expand folders (local, or S3 prefixes), check every named file, order by date and apply the
 * range; nothing is loaded. `known`: backups detected already, used as they are wherever their
 * paths come up. `opts`: how detection reads what is not a file here (where s3:// arguments are read).
 */
export async function selectBackups(args: readonly string[], range: DateRange = {}, known: readonly BackupFile[] = [], opts: DetectOptions = {}): Promise<BackupSelection> {
  const detected = new Map(known.map((b) => [resolve(b.path), b]));
  const detect = async (path: string): Promise<BackupFile> => {
    const seen = detected.get(resolve(path));
    return seen ? { ...seen, path } : detectBackup(path, opts);
  };
  if (!args.length) throw new RecoverError('USAGE_NO_BACKUPS', 'no backups given', { hint: 'name the backups, or a folder of them' });
  const found = new Map<string, SelectedBackup>();
  const skipped: BackupSelection['skipped'] = [];
  /** Each backup read, by its real path: a link in a folder to one of them is not another backup. */
  const read = new Map<string, string>();
  if (args.filter((a) => a === STDIN_ARG).length > 1) {
    throw new RecoverError('BACKUP_READ_ONCE', `standard input (-) is named ${args.filter((a) => a === STDIN_ARG).length} times, and it holds one backup`, {
      hint: 'pipe one backup into recover-texts, and name the others as files',
    });
  }
  for (const arg of args) {
    await assertBackupPathExists(arg);
    if (isS3Url(arg) && parseS3Url(arg).folder) {
      // Like a folder here: each object recognised by its bytes, sub-folders listed and not searched.
      const store = await openS3(opts.s3 ?? {}, { debug: opts.debug });
      const { objects, folders } = await store.list(parseS3Url(arg));
      if (objects.some((o) => o.path === `${arg.replace(/\/?$/, '/')}toc.dat`)) {
        throw new RecoverError('S3_DIRECTORY_ARCHIVE', `${arg} holds toc.dat: it is a pg_dump directory archive, which is read from a folder on this machine only`, {
          hint: `copy it down (aws s3 cp --recursive ${arg} DIR) and pass DIR, or dump with pg_dump -Fc for one object that is read in place`,
        });
      }
      for (const path of folders) skipped.push({ path, reason: FOLDER_INSIDE, kind: 'not a backup' });
      let any = false;
      // Each object's head is asked for a few at a time (most of the wait is on the network), then taken in order.
      const looked = await pool(objects, HEADS_AT_ONCE, undefined, (object) => lookAtObject(store, object));
      for (const [k, { path }] of objects.entries()) {
        const seen = looked[k]!;
        if ('passOver' in seen) {
          skipped.push({ path, reason: seen.passOver, kind: 'not a backup' });
          continue;
        }
        if ('error' in seen) {
          // A refusal of one object (its own permissions) skips it, as another user's file in a folder is.
          skipped.push(notABackup(path, seen.error));
          continue;
        }
        any = true;
        if (!found.has(path)) found.set(path, { path, backup: seen.backup, date: backupDate(seen.backup), named: false });
      }
      if (!any) throw noBackupsIn(arg, objects.length + folders.length);
    } else if (!isUrl(arg) && (await isPlainFolder(arg))) {
      // (A URL is never a folder, and is never stat'ed.)
      const names = (await fs.readdir(arg)).sort();
      let any = false;
      // Links last: a `latest.sql.gz` beside the backup it leads to is that backup, said once.
      const members = await linksLast(arg, names);
      // Each member's head is read a few at a time (most of the wait is on the disk), then taken in order.
      const looked = await pool(members, HEADS_AT_ONCE, undefined, (name) => lookAt(join(arg, name), name, detect));
      for (const [k, name] of members.entries()) {
        const path = join(arg, name);
        const seen = looked[k]!;
        if ('passOver' in seen) {
          skipped.push({ path, reason: seen.passOver, kind: 'not a backup' });
          continue;
        }
        if ('backup' in seen) {
          any = true;
          const same = read.get(seen.real);
          if (same !== undefined && same !== path) {
            skipped.push({ path, reason: `a symbolic link to ${same}, which is read already`, kind: 'not a backup' });
            continue;
          }
          read.set(seen.real, path);
          if (!found.has(path)) found.set(path, { path, backup: seen.backup, date: backupDate(seen.backup), named: false });
          continue;
        }
        const e = seen.error;
        const own = await ownOutputKind(path);
        if (own) {
          skipped.push({ path, reason: `${own} written by recover-texts`, kind: 'own output' });
          continue;
        }
        if (await isPlainFolder(path)) skipped.push({ path, reason: FOLDER_INSIDE, kind: 'not a backup' });
        else skipped.push(notABackup(path, e));
      }
      if (!any) throw noBackupsIn(arg, names.length);
    } else {
      // Named: detection errors (not a backup, truncated archive, ...) fail the command here.
      const backup = await detect(arg);
      // A URL is named as shown (redacted), everywhere from here on.
      const path = backupName(arg);
      found.set(path, { path, backup, date: backupDate(backup), named: true });
      if (!backup.bytes) read.set(await fs.realpath(arg), arg);
    }
  }
  const { kept, copies } = setCopiesAside([...found.values()]);
  const all = kept.sort(byDate);
  const day = (b: SelectedBackup) => b.date.value.slice(0, 10);
  let backups = all.filter((b) => (!range.since || day(b) >= range.since) && (!range.until || day(b) <= range.until));
  let ties: BackupTie[];
  if (range.before) {
    const earlier = backups.filter((b) => day(b) < range.before!);
    backups = earlier.slice(-1);
    // The newest before the day: tied only with those of its own date.
    ties = tiesIn(earlier).filter((t) => t.date.value === backups[0]?.date.value);
  } else {
    ties = tiesIn(backups);
  }
  for (const b of all) if (!backups.includes(b)) skipped.push({ path: b.path, reason: `dated ${b.date.value}, not ${describe(range)}`, kind: 'out of range' });
  if (!backups.length) {
    throw new RecoverError('NO_BACKUPS_IN_RANGE', `none of the ${all.length} backup${all.length === 1 ? '' : 's'} is ${describe(range)}`, {
      hint: `their dates: ${all.map((b) => b.date.value).join(', ')}`,
    });
  }
  return { backups, skipped, copies, ties };
}

/** One line for the admin: backups whose order is unknown, and what to do about it. */
export function tieNote(t: BackupTie): string {
  const names = t.paths.map((p) => basename(p));
  const shown = names.length <= 6 ? names.join(', ') : `${names.slice(0, 2).join(', ')}, ... ${names.at(-1)} (${names.length})`;
  return (
    `which came first of ${shown} is unknown: they share the date ${t.date.value} (${DATE_SOURCE_NOTE[t.date.source]}), so they are taken in the order of their names; ` +
    (t.date.source !== 'file modification time'
      ? 'name each with its date'
      : t.paths.some(isS3Url)
        ? 'name each object with its date (buggy_race_bk_YYYYMMDD...)'
        : 'copy backups with their times kept (cp -p, rsync -t), or name each with its date (buggy_race_bk_YYYYMMDD...)')
  );
}

/**
 * The runs of backups (in date order) that share a date and a clock: a dump's time or a file's
 * modification time, to the minute. Names that date backups to the same day are no tie: their
 * order by name is most likely the one they were made in (bk_2026-03-09_0300, bk_2026-03-09_1500).
 */
function tiesIn(sorted: readonly SelectedBackup[]): BackupTie[] {
  const ties: BackupTie[] = [];
  const same = (a: SelectedBackup, b: SelectedBackup) => a.date.value === b.date.value && a.date.source === b.date.source && a.date.source !== 'file name';
  for (let i = 0, j: number; i < sorted.length; i = j) {
    for (j = i + 1; j < sorted.length && same(sorted[j]!, sorted[i]!); j++);
    if (j - i > 1) ties.push({ date: sorted[i]!.date, paths: sorted.slice(i, j).map((b) => b.path) });
  }
  return ties;
}

/** Folders with more entries than this are not searched for newer backups (it is someone's Downloads, not a backup folder). */
const MAX_SIBLINGS = 400;

/**
 * Backups in the same folder as `backup` that are newer than `date`, newest
 * last: a sign that an export of `backup` is not the latest state, so its upload
 * would undo later work. Empty when the folder cannot be read or is large.
 * `backup` itself is not read again.
 */
export async function newerBackupsBeside(backup: BackupFile, date: BackupDate, opts: DetectOptions = {}): Promise<SelectedBackup[]> {
  const path = backup.path;
  if (isS3Url(path)) return newerObjectsBeside(backup, date, opts).catch(() => []);
  if (backup.bytes) return []; // a pipe or a URL has no folder
  const dir = dirname(resolve(path));
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  if (names.length > MAX_SIBLINGS) return [];
  const all = await selectBackups([dir], {}, [backup]).catch(() => null);
  return newerThan((all?.backups ?? []).filter((b) => resolve(b.path) !== resolve(path)), date);
}

/** The backups dated after `date`, oldest first: only those that carry their own date (name or header), as a stray SQL-looking file's mtime says nothing. */
function newerThan(backups: readonly SelectedBackup[], date: BackupDate): SelectedBackup[] {
  return backups.filter((b) => b.date.source !== 'file modification time' && isLater(b.date, date)).sort(byDate);
}

/**
 * newerBackupsBeside for an S3 object: the backups under its prefix newer than `date`, by the
 * dates they are read with (as in a folder). Objects whose names date them two days or more
 * before the backup's day are not read (a name's day may be a day off the dump's own time, and
 * a same-day backup's time is in its header); every other object is, a few at a time. It throws
 * where the prefix cannot be listed (a key may read objects and not list them): the caller says
 * nothing then.
 */
async function newerObjectsBeside(backup: BackupFile, date: BackupDate, opts: DetectOptions): Promise<SelectedBackup[]> {
  const store = await openS3(opts.s3 ?? {}, { debug: opts.debug });
  const { objects } = await store.list(parseS3Url(s3Folder(backup.path)));
  if (objects.length > MAX_SIBLINGS) return [];
  const dayBefore = new Date(Date.parse(`${date.value.slice(0, 10)}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const maybeLater = objects.filter((o) => o.path !== backup.path && (dateFromName(o.path) ?? dayBefore) >= dayBefore);
  const looked = await pool(maybeLater, HEADS_AT_ONCE, undefined, (o) => lookAtObject(store, o));
  return newerThan(looked.flatMap((seen, k) => ('backup' in seen ? [{ path: maybeLater[k]!.path, backup: seen.backup, date: backupDate(seen.backup), named: false }] : [])), date);
}

/** A folder member that detection refused: damaged (an empty or cut-off night), or not a backup. */
function notABackup(path: string, e: RecoverError): BackupSelection['skipped'][number] {
  return { path, reason: e.message, kind: e.exit === 'damaged' ? 'damaged' : 'not a backup', code: e.code };
}

function noBackupsIn(folder: string, entries: number): RecoverError {
  return new RecoverError('FOLDER_NO_BACKUPS', `the folder ${folder} holds no backups (${entries} entr${entries === 1 ? 'y' : 'ies'}, none recognised)`, {
    hint: 'backups are recognised by their bytes: plain or gzipped SQL, or pg_dump archives',
  });
}

const LINE_BREAK = 'its name holds a line break (shown escaped), which no backup job writes: rename it to read it';

/** A name with a line break would forge a line of output wherever it is printed. */
function lineBreakIn(name: string): boolean {
  return /[\n\r]/.test(name);
}

/** A folder's entries, the symbolic links after the rest (each group in the order given). */
async function linksLast(dir: string, names: string[]): Promise<string[]> {
  const isLink = await Promise.all(names.map((n) => fs.lstat(join(dir, n)).then((s) => s.isSymbolicLink(), () => false)));
  return [...names.filter((_, k) => !isLink[k]), ...names.filter((_, k) => isLink[k])];
}

/** An object of an S3 folder, as lookAt a folder member: passed over (a name with a line break), a backup, or why it is not one. */
async function lookAtObject(store: S3Store, object: S3Object): Promise<{ passOver: string } | { backup: BackupFile } | { error: RecoverError }> {
  if (lineBreakIn(object.path)) return { passOver: LINE_BREAK };
  try {
    return { backup: await detectS3Object(store, object) };
  } catch (error) {
    if (!(error instanceof RecoverError)) throw error;
    return { error };
  }
}

/** Folder members whose heads are read at once: enough to keep the disk and the thread pool busy, few enough for open files. */
const HEADS_AT_ONCE = 8;

/** What one folder member is: passed over (unopened: notToOpen; or not to be read by this run: SKIPPED_ERRNO), a backup (and its real path), or why detection refused it. */
async function lookAt(path: string, name: string, detect: (path: string) => Promise<BackupFile>): Promise<{ passOver: string } | { backup: BackupFile; real: string } | { error: RecoverError }> {
  const passOver = await notToOpen(path, name);
  if (passOver) return { passOver };
  try {
    const backup = await detect(path);
    return { backup, real: await fs.realpath(path) };
  } catch (error) {
    if (error instanceof RecoverError) return { error };
    // Another user's file beside the backups, or one removed meanwhile: not this run's to read, and no reason
    // to stop. Any other error (too many files open, the disk failing) stops the run at once, no other member
    // begun: a night must not go unsaid.
    if (isLocalFileError(error) && SKIPPED_ERRNO[error.code!]) return { passOver: `${SKIPPED_ERRNO[error.code!]} (${error.code})` };
    throw error;
  }
}

/**
 * Why a folder member is passed over before a byte of it is read, or null to read it. Only
 * files and folders are opened: a fifo would block the run until someone writes to it, and a
 * socket or a device (a link to /dev/zero) is no backup. A name with a line break (it would
 * forge a line of output) is no backup job's; it is shown escaped.
 */
async function notToOpen(path: string, name: string): Promise<string | null> {
  // Other control characters are shown escaped wherever the name is printed; a line break in a message would start a line of its own.
  if (lineBreakIn(name)) return LINE_BREAK;
  const st = await fs.stat(path).catch(() => null);
  // Nothing to stat (a link to nothing, a loop of links): detection says which.
  if (!st || st.isFile() || st.isDirectory()) return null;
  return `${kindOf(st)}, not a file: never opened`;
}

/** A directory that is not a pg_dump directory archive (which has a toc.dat). */
async function isPlainFolder(path: string): Promise<boolean> {
  const stat = await fs.stat(path).catch(() => null);
  if (!stat?.isDirectory()) return false;
  return !(await fs.stat(join(path, 'toc.dat')).catch(() => null));
}

function describe(range: DateRange): string {
  const parts = [range.since && `on or after ${range.since}`, range.until && `on or before ${range.until}`, range.before && `before ${range.before}`].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'in range';
}

/** Oldest first; the same date by path. */
function byDate(a: SelectedBackup, b: SelectedBackup): number {
  return cmp(a.date.value, b.date.value) || cmp(a.path, b.path);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
