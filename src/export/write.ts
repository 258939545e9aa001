/**
 * Atomic, private output: content goes to a temp name beside the target and
 * is renamed into place only when complete, so a failure or an interrupt
 * never leaves a half-written export. Files are 0600 and folders 0700: an
 * export holds a student's personal writing.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import { pathExists } from '../files.js';

export interface WriteOptions {
  /** Replace an existing output. */
  force: boolean;
  /** The run's scope: the partial output is registered there, so a run ended from outside removes it. */
  scope: Scope;
}

/** Write one file atomically. */
export async function writeFileAtomic(path: string, content: string | Buffer, opts: WriteOptions): Promise<void> {
  await refuseExisting(path, opts);
  const tmp = tempSibling(path);
  const { scope } = opts;
  const guard = scope.track({ label: `partial output ${tmp}`, dispose: () => fs.rm(tmp, { force: true }) });
  try {
    await fs.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await scope.checkpoint('writing');
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw outputError(e, path);
  } finally {
    scope.untrack(guard);
  }
}

/** Fill a folder atomically: `fill` writes into a temp folder that then takes the target's name. */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>, opts: WriteOptions): Promise<void> {
  await refuseExisting(path, opts);
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
    throw outputError(e, path);
  } finally {
    scope.untrack(guard);
  }
}

/** An existing output is kept unless --force; `flag` names the option that chose it. */
export async function refuseExisting(path: string, opts: Pick<WriteOptions, 'force'>, flag = '--out'): Promise<void> {
  if (!opts.force && (await pathExists(path))) {
    throw new RecoverError('OUTPUT_EXISTS', `${path} already exists`, {
      hint: `choose another ${flag}, or add --force to replace it`,
    });
  }
}

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
}

function outputError(e: unknown, path: string): Error {
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
    hint: 'choose a writable --out location; nothing was written',
    cause: e,
  });
}
