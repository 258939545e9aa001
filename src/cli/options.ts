/**
 * The options every loading command shares, and their resolution: checked
 * and defaulted once, here, into the session's config. A bad option fails
 * with exit 2 before any backup is read or any process started.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { checkEndpoint, isS3Url, type S3Settings } from '../remote/index.js';
import { DEFAULT_IMAGE, ENGINE_KINDS, hasServer, type EngineConfig, type Log } from '../engine/index.js';
import { RecoverError, type ErrorCode } from '../errors.js';
import { foreignEntries, OWN_FILES, ownOutputKind, type OWN_FOLDERS } from '../detect/index.js';
import { checkOutputPlace, type OutputPlace } from '../export/index.js';
import { resolveBackupEncoding } from '../load/index.js';
import type { Scope } from '../scope.js';
import type { SessionConfig } from '../session/index.js';
import { shellWord } from '../shell.js';
import { LOAD_LIMIT_ENV, parseLoadLimit } from '../tempdir.js';
import type { Console } from './console.js';

export interface CommonOptions {
  engine: EngineConfig['kind'];
  pgBin?: string;
  image?: string;
  /** --no-cache sets it false. */
  cache?: boolean;
  pgRestore?: string;
  databaseUrl?: string;
  timezone: string;
  backupEncoding?: string;
  database?: string;
  endpointUrl?: string;
  quiet?: boolean;
  debug?: boolean;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--engine <kind>', 'throwaway PostgreSQL to load into').choices(ENGINE_KINDS).default('embedded'))
    .option('--pg-bin <dir>', 'with --engine system: directory holding initdb and postgres')
    .option('--image <image>', `with --engine docker: the PostgreSQL image to run (default: ${DEFAULT_IMAGE})`)
    .addOption(
      new Option('--database-url <url>', 'load into a scratch database created (and dropped) on this server; implies --engine url').env(
        'RECOVER_TEXTS_DATABASE_URL',
      ),
    )
    .option('--no-cache', 'initialise a new PostgreSQL data directory for this run instead of copying the one cached in ~/.cache/recover-texts')
    .option('--pg-restore <path>', 'read archives with this pg_restore instead of natively (needed only for archives newer than 1.16)')
    .option('--timezone <zone>', "the race server database's session time zone (UTC on Heroku and by default)", 'UTC')
    .option('--backup-encoding <encoding>', "for a SQL_ASCII backup: the encoding of its bytes that are not UTF-8, e.g. LATIN1 or WIN1252")
    .option('--database <name>', 'for a pg_dumpall file holding several race server databases: the one to read')
    .addOption(new Option('--endpoint-url <url>', 'for s3:// backups: the URL of an S3-compatible store (MinIO, Ceph, ...), addressed path-style').env('AWS_ENDPOINT_URL'))
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--debug', 'show stack traces and internal detail on errors');
}

/**
 * Where the s3:// backups among `args` are read: --endpoint-url (or AWS_ENDPOINT_URL), checked;
 * else AWS itself. Checked only when an s3:// backup is given: an AWS setting meant for other
 * tools never stops a run over local files.
 */
export function resolveS3(opts: Pick<CommonOptions, 'endpointUrl'>, args: readonly string[]): S3Settings {
  if (!opts.endpointUrl || !args.some(isS3Url)) return {};
  return { endpoint: checkEndpoint(opts.endpointUrl, '--endpoint-url (or AWS_ENDPOINT_URL)') };
}

/** Every shared option checked, in one place, into the session's config for a run in `scope`. */
export function resolveSession(opts: CommonOptions, ui: Console, scope: Scope): SessionConfig {
  const log: Log = (m) => ui.note(m);
  if (!knownTimeZone(opts.timezone)) {
    throw usage('USAGE_BAD_TIMEZONE', `unknown time zone ${JSON.stringify(opts.timezone)}`, 'use an IANA zone name such as UTC or Europe/London');
  }
  if (opts.pgRestore !== undefined) checkExecutable(opts.pgRestore);
  return {
    engine: { ...resolveEngine(opts, log), ...(opts.debug ? { debug: (m: string) => ui.debug(m) } : {}) },
    scope,
    timezone: opts.timezone,
    pgRestore: opts.pgRestore,
    backupEncoding: opts.backupEncoding === undefined ? undefined : resolveBackupEncoding(opts.backupEncoding),
    database: opts.database,
    loadLimit: parseLoadLimit(process.env[LOAD_LIMIT_ENV]),
    onProgress: (done, total) => ui.progress('loading backup', done, total),
    onPhase: (phase) => ui.step(phase),
    log,
  };
}

function resolveEngine(opts: CommonOptions, log: Log): EngineConfig {
  const kind = opts.databaseUrl && opts.engine === 'embedded' ? 'url' : opts.engine;
  if (opts.pgBin && kind !== 'system') throw usage('USAGE_CONFLICT', '--pg-bin goes with --engine system', 'add --engine system');
  if (kind !== 'url' && opts.databaseUrl) throw usage('USAGE_CONFLICT', `--database-url cannot be used with --engine ${kind}`, 'drop one of them');
  if (opts.image !== undefined && kind !== 'docker') throw usage('USAGE_CONFLICT', '--image goes with --engine docker', 'add --engine docker');
  switch (kind) {
    case 'embedded':
      return { kind, cache: opts.cache !== false, tcp: tcpAsked(process.env[TRANSPORT_ENV]), log };
    case 'system':
      if (opts.pgBin && !hasServer(opts.pgBin)) {
        throw new RecoverError('ENGINE_PG_BIN_INVALID', `--pg-bin ${opts.pgBin} does not hold initdb and postgres`, {
          hint: "point --pg-bin at PostgreSQL's bin directory, e.g. /usr/lib/postgresql/16/bin",
        });
      }
      return { kind, pgBin: opts.pgBin, cache: opts.cache !== false, tcp: tcpAsked(process.env[TRANSPORT_ENV]), log };
    case 'url':
      if (!opts.databaseUrl) throw usage('USAGE_NO_URL', '--engine url needs --database-url (or RECOVER_TEXTS_DATABASE_URL)', 'e.g. --database-url postgresql://me@localhost/postgres');
      checkDatabaseUrl(opts.databaseUrl);
      return { kind, databaseUrl: opts.databaseUrl, log };
    case 'docker':
      if (opts.image !== undefined && !/^[\w][\w.\-/:@]*$/.test(opts.image)) {
        throw usage('USAGE_BAD_IMAGE', `--image ${JSON.stringify(opts.image)} is not an image name`, 'name an image like postgres:17 or registry.example.com/postgres:16');
      }
      return { kind, image: opts.image ?? DEFAULT_IMAGE, log };
  }
}

/** The environment variable that makes a throwaway cluster listen on 127.0.0.1, as it must on Windows, where a Unix socket would do. */
const TRANSPORT_ENV = 'RECOVER_TEXTS_TRANSPORT';

/** RECOVER_TEXTS_TRANSPORT: `tcp`, else (unset, empty, `auto`) the socket wherever one can be used. */
export function tcpAsked(set: string | undefined): boolean {
  if (set === undefined || set === '' || set === 'auto') return false;
  if (set === 'tcp') return true;
  throw new RecoverError('TRANSPORT_INVALID', `${TRANSPORT_ENV} must be tcp or auto, found ${JSON.stringify(set.slice(0, 40))}`, {
    hint: `set ${TRANSPORT_ENV}=tcp to make the throwaway PostgreSQL listen on 127.0.0.1, or unset it`,
  });
}

function checkDatabaseUrl(value: string): void {
  let ok: boolean;
  try {
    ok = /^postgres(ql)?:$/.test(new URL(value).protocol);
  } catch {
    ok = false;
  }
  if (!ok) throw new RecoverError('ENGINE_URL_INVALID', '--database-url is not a valid URL', { hint: 'use the form postgresql://user:password@host:5432/postgres' });
}

function checkExecutable(path: string): void {
  try {
    if (!existsSync(path)) throw new Error('missing');
    accessSync(path, constants.X_OK);
  } catch {
    throw new RecoverError('PG_RESTORE_INVALID', `--pg-restore ${path} is not a working pg_restore`, {
      hint: 'give the path of a pg_restore program, e.g. /usr/lib/postgresql/17/bin/pg_restore',
    });
  }
}

/**
 * Before a command that needs `-u, --user` (export, history, merge) runs:
 * checked here, not marked required for commander, so that a username given
 * as a bare word is pointed at --user, not only said to be missing. Without it, one bare word that is
 * no file and looks like a name (`export BACKUP alice`) is taken for the
 * student, and the command with --user is suggested. `export`, which takes
 * one backup, accepts extra words only so it can say this: with --user, an
 * extra word is refused as commander would.
 */
export function checkUserGiven(cmd: Command, user: string | undefined, oneBackup = false): void {
  const args = cmd.args;
  if (user !== undefined) {
    if (oneBackup && args.length > 1) cmd.error(`error: too many arguments for '${cmd.name()}'. Expected 1 argument but got ${args.length}.`, { code: 'commander.excessArguments' });
    return;
  }
  const names = args.filter((a) => looksLikeName(a) && !existsSync(a));
  const backups = args.length - names.length;
  const missing = "error: required option '-u, --user <name>' not specified";
  if (names.length !== 1 || backups < 1 || (oneBackup && backups !== 1)) cmd.error(missing, { code: 'commander.missingMandatoryOptionValue' });
  const flag = `--user ${shellWord(names[0]!)}`;
  const example = { export: `export BACKUP ${flag}`, history: `history ${flag} BACKUP...`, merge: `merge ${flag} --current CURRENT BACKUP...` }[cmd.name()];
  cmd.error(`${missing}\n  hint: did you mean: recover-texts ${example ?? `${cmd.name()} ${flag}`}?`, { code: 'commander.missingMandatoryOptionValue' });
}

/** A word that could be a username or real name, not a backup's path: no folder, no backup file ending. */
function looksLikeName(word: string): boolean {
  return word.length <= 100 && /^[\p{L}\p{N}_@'][\p{L}\p{N}_.@' -]*$/u.test(word) && !/\.(sql|gz|dump|backup|bak|tar|zst|lz4|bz2|xz|zip|json)$/i.test(word);
}

/** An output that exists is refused before anything is loaded, not after. */
/**
 * Check an output before any backup is read (checkOutputPlace). `folder`: the kind of folder the
 * command writes (OWN_FOLDERS); else it writes a file. --force replaces only what recover-texts
 * wrote: a file of its kinds (OWN_FILES), a folder of that kind holding nothing else (foreignEntries),
 * or an empty folder. `inputs`: the backups and folders the command reads. What was checked is
 * returned, for the write to check again before it replaces anything (WriteOptions.place).
 */
export async function checkOutput(
  path: string | undefined,
  force: boolean | undefined,
  flag = '--out',
  place: { folder?: (typeof OWN_FOLDERS)[keyof typeof OWN_FOLDERS]; inputs?: readonly string[] } = {},
): Promise<OutputPlace | undefined> {
  if (path === undefined) return undefined;
  if (path === '') throw usage('USAGE_NO_OUT', `${flag} names no ${place.folder ? 'folder' : 'file'} (it is empty)`, `e.g. ${flag} ${place.folder ? 'uploads/' : 'alice.json'}`);
  const { folder } = place;
  const refuseToReplace = folder
    ? async (p: string) => {
        const foreign = await foreignEntries(p, folder);
        if (foreign === null) return `it is not ${folder} that recover-texts wrote, and everything in it would be deleted`;
        if (!foreign.length) return null;
        const shown = foreign.length <= 3 ? foreign.join(', ') : `${foreign.slice(0, 3).join(', ')} and ${foreign.length - 3} more`;
        return `it holds what recover-texts did not write there (${shown}), which would be deleted with it`;
      }
    : async (p: string) => (OWN_FILES.includes((await ownOutputKind(p)) ?? '') ? null : 'it is not a file recover-texts wrote (an upload JSON, a CSV or an HTML report)');
  const checked: OutputPlace = { force: !!force, flag, folder: !!folder, inputs: place.inputs, refuseToReplace };
  await checkOutputPlace(path, checked);
  return checked;
}

/** commander parser for --jobs. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usage('USAGE_BAD_NUMBER', `--jobs ${JSON.stringify(value)} is not a whole number of 1 or more`, 'e.g. --jobs 4');
  return n;
}

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Intl knows the IANA zones; PostgreSQL also takes POSIX forms such as
 * UTC+3, which the query checks again after loading.
 */
function knownTimeZone(zone: string): boolean {
  if (zone === 'UTC') return true; // the default: no need to start ICU's time zone data to know it
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return /^[A-Za-z]{3,5}([+-]\d{1,2}(:\d\d)?)?$/.test(zone);
  }
}

function usage(code: ErrorCode, message: string, hint: string): RecoverError {
  return new RecoverError(code, message, { hint });
}
