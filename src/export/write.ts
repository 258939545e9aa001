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
    await fs.rename(tmp, path);
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
      const old = tempSibling(path);
      await fs.rename(path, old);
      await fs.rename(tmp, path);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, path);
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

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
}

/** Where an output goes, beyond its path (checkOutputPlace). */
export interface OutputPlace {
  /** Replace an existing output. */
  force: boolean;
  /** The option that names it. */
  flag: string;
  /** A folder the command fills: with --force, replaced only when it holds this file, which the command writes there. Else a file. */
  marker?: string;
  /** What the command reads (backups, folders of them): never replaced, nor a folder that holds one. */
  inputs?: readonly string[];
}

/**
 * Before any backup is read: the output can be written (its folder is there and writable), an
 * existing one is kept without --force, and --force replaces only an earlier output of the same
 * kind: never a backup being read, a folder that holds one or the current folder, nor a folder
 * without the file the command writes there (`marker`).
 */
export async function checkOutputPlace(path: string, place: OutputPlace): Promise<void> {
  const { flag } = place;
  const parent = dirname(resolve(path));
  try {
    if (!(await fs.stat(parent)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await fs.access(parent, constants.W_OK);
  } catch (e) {
    throw outputError(e, path, flag);
  }
  const st = await fs.stat(path).catch(() => undefined);
  if (!st) return;
  await refuseExisting(path, place, flag);
  const folder = place.marker !== undefined;
  const protectedPlace = (what: string, hint = `choose another ${flag}`) => new RecoverError('OUTPUT_PROTECTED', `--force does not replace ${path}: ${what}`, { hint });
  if (st.isDirectory() !== folder) throw protectedPlace(`it is a ${st.isDirectory() ? 'folder' : 'file'}, and ${flag} writes a ${folder ? 'folder' : 'file'}`);
  const target = await fs.realpath(path);
  const within = (p: string) => p === target || p.startsWith(target.endsWith(sep) ? target : target + sep);
  if (within(await fs.realpath(process.cwd()))) throw protectedPlace(target === (await fs.realpath(process.cwd())) ? 'it is the current folder' : 'it holds the current folder');
  for (const input of place.inputs ?? []) {
    const real = await fs.realpath(input).catch(() => undefined); // a URL or an s3:// object: not on this machine
    if (real && within(real)) throw protectedPlace(`it ${real === target ? 'is' : 'holds'} ${input}, which is being read`);
  }
  if (folder && !(await pathExists(join(path, place.marker!)))) {
    throw protectedPlace(`it has no ${place.marker}, so it is not a folder that ${flag} wrote`, `choose another ${flag}, or empty or remove the folder yourself`);
  }
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
