/**
 * Atomic, private output: content goes to a temp name beside the target and
 * is renamed into place only when complete, so a failure or an interrupt
 * never leaves a half-written export. Files are 0600 and folders 0700: an
 * export holds a student's personal writing.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import { pathExists } from '../files.js';

export interface WriteOptions {
  /** Replace an existing output. */
  force: boolean;
  /** The run's scope: the partial output is registered there, so a run ended from outside removes it. */
  scope: Scope;
  /** The option that named the output, for messages (default --out). */
  flag?: string;
  /** What was checked before the run (checkOutputPlace): checked again just before an existing output is replaced. */
  place?: OutputPlace;
}

/** Write one file atomically. */
export async function writeFileAtomic(path: string, content: string | Buffer, opts: WriteOptions): Promise<void> {
  await refuseExisting(path, opts, opts.flag);
  const tmp = tempSibling(path);
  const { scope } = opts;
  const guard = scope.track({ label: `partial output ${tmp}`, dispose: () => fs.rm(tmp, { force: true }) });
  try {
    await fs.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await scope.checkpoint('writing');
    // The place may have changed since the run began (a year of backups takes a while): checked again.
    if (opts.place && (await pathExists(path))) await checkOutputPlace(path, opts.place);
    await fs.rename(tmp, resolve(path));
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw outputError(e, path, opts.flag);
  } finally {
    scope.untrack(guard);
  }
}

/** Fill a folder atomically: `fill` writes into a temp folder that then takes the target's name. */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>, opts: WriteOptions): Promise<void> {
  await refuseExisting(path, opts, opts.flag);
  const tmp = tempSibling(path);
  const { scope } = opts;
  const guard = scope.track({ label: `partial output ${tmp}`, dispose: () => fs.rm(tmp, { recursive: true, force: true }) });
  try {
    await fs.mkdir(tmp, { mode: 0o700 });
    await fill(tmp);
    await scope.checkpoint('writing');
    if (opts.force && (await pathExists(path))) {
      // Checked again now, just before what is there is deleted: it may have changed since the run began.
      if (opts.place) await checkOutputPlace(path, opts.place);
      // Resolved first: `all/../all` is not there once `all` is moved aside.
      const target = resolve(path);
      const old = tempSibling(target);
      await fs.rename(target, old);
      // Put back if the new one cannot take its place: never a run that hides the old output away.
      await fs.rename(tmp, target).catch(async (e: unknown) => {
        await fs.rename(old, target).catch(() => undefined);
        throw e;
      });
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, resolve(path));
    }
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw outputError(e, path, opts.flag);
  } finally {
    scope.untrack(guard);
  }
}

/** An existing output is kept unless --force; `flag` names the option that chose it. */
async function refuseExisting(path: string, opts: Pick<WriteOptions, 'force'>, flag = '--out'): Promise<void> {
  if (!opts.force && (await pathExists(path))) {
    throw new RecoverError('OUTPUT_EXISTS', `${path} already exists`, {
      hint: `choose another ${flag}, or add --force to replace it`,
    });
  }
}

/** What a temporary name adds to the output's (tempSibling), and the most a file name may have (NAME_MAX). */
const TEMP_NAME_EXTRA = 1 + 1 + 8 + '.partial'.length;
const MAX_NAME_BYTES = 255;

/** A name beside the output's, for it while it is written. The output's path resolved: `all/../all` must not go with `all`. */
function tempSibling(path: string): string {
  const full = resolve(path);
  return join(dirname(full), `.${basename(full)}.${randomBytes(4).toString('hex')}.partial`);
}

/** Where an output goes, beyond its path (checkOutputPlace). */
export interface OutputPlace {
  /** Replace an existing output. */
  force: boolean;
  /** The option that names it. */
  flag: string;
  /** The output is a folder the command fills (else a file). */
  folder?: boolean;
  /** What the command reads (backups, folders of them): never replaced, nor a folder that holds one. */
  inputs?: readonly string[];
  /** Why an existing output of the right kind may not be replaced (a backup; a folder the command did not write), or null. */
  refuseToReplace?: (path: string) => Promise<string | null>;
}

/**
 * Before any backup is read: the output can be written (its folder is there and writable, a file
 * name does not end in a slash); an existing one is kept without --force; and even with --force,
 * nothing is replaced that must not be: a backup being read, a folder that holds one or the
 * current folder, a folder where a file goes (or the reverse), and what `refuseToReplace` names.
 */
export async function checkOutputPlace(path: string, place: OutputPlace): Promise<void> {
  const { flag } = place;
  const cannot = (why: string) => new RecoverError('OUTPUT_FAILED', `cannot write ${path}: ${why}`, { hint: `choose a writable ${flag} location; nothing was written` });
  if (!place.folder && (/[\\/]$/.test(path) || ['.', '..'].includes(basename(path)))) throw cannot(`${flag} names a file, and a file's name does not end in /, nor is it . or ..`);
  // The output is written under a temporary name beside it, a few characters longer.
  if (Buffer.byteLength(basename(resolve(path))) + TEMP_NAME_EXTRA > MAX_NAME_BYTES) throw cannot(`its name is too long (a file name has at most ${MAX_NAME_BYTES} bytes, and the output is first written under a name ${TEMP_NAME_EXTRA} bytes longer)`);
  const parent = dirname(resolve(path));
  try {
    if (!(await fs.stat(parent)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await fs.access(parent, constants.W_OK);
  } catch (e) {
    throw outputError(e, path, flag);
  }
  // A link to nothing is there too: writing would replace it.
  if (!(await fs.lstat(path).catch(() => undefined))) return;
  const refuse = (what: string, hint = `choose another ${flag}`) => new RecoverError('OUTPUT_PROTECTED', `${path} cannot be replaced: ${what}`, { hint });
  const isFolder = (await fs.stat(path).catch(() => undefined))?.isDirectory() ?? false;
  if (isFolder !== !!place.folder) throw refuse(`it is a ${isFolder ? 'folder' : 'file'}, and ${flag} writes a ${place.folder ? 'folder' : 'file'}`);
  const target = await fs.realpath(path).catch(() => resolve(path));
  const within = (p: string) => p === target || p.startsWith(target.endsWith(sep) ? target : target + sep);
  const cwd = await fs.realpath(process.cwd());
  if (within(cwd)) throw refuse(cwd === target ? 'it is the current folder' : 'it holds the current folder');
  // Standard input ("-") is no file here; a URL or an s3:// object is not on this machine.
  for (const input of (place.inputs ?? []).filter((x) => x !== '-')) {
    const real = await fs.realpath(input).catch(() => undefined);
    if (real && within(real)) throw refuse(`it ${real === target ? 'is' : 'holds'} ${input}, which is being read`);
  }
  const why = await place.refuseToReplace?.(path);
  if (why) throw refuse(why, `choose another ${flag}${place.folder ? ', or empty or remove the folder yourself' : ''}`);
  await refuseExisting(path, place, flag);
}

function outputError(e: unknown, path: string, flag = '--out'): Error {
  if (e instanceof RecoverError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'its folder does not exist',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exceeded',
    EROFS: 'the file system is read-only',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
  };
  return new RecoverError('OUTPUT_FAILED', `cannot write ${path}: ${why[code ?? ''] ?? code ?? (e as Error).message}`, {
    hint: `choose a writable ${flag} location; nothing was written`,
    cause: e,
  });
}
