/**
 * Private temp dirs. Each is mode 0700 and carries a marker naming the
 * process that made it, so a later run can tell a dir left behind by a
 * killed run (its process is gone) from one in use, and remove only those.
 *
 * The throwaway cluster's dir goes where it is fastest: in memory (/dev/shm,
 * a tmpfs) when TMPDIR is not set and there is room, else in the temp folder.
 * In memory, creating its thousand files costs a tenth of what it does on a
 * disk, and nothing loaded from a backup is ever written to a disk.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecoverError } from './errors.js';

/** Prefix of every temp dir this tool makes; stale ones are found by it. */
export const TEMP_PREFIX = 'recover-texts-';
/** The marker file that says a temp dir is ours, and which process owns it. */
export const MARKER = 'recover-texts.json';

/** The memory-backed folder that Linux mounts for every user (mode 1777, a tmpfs). */
const MEMORY_DIR = '/dev/shm';
/** statfs type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;
/** Free space the memory folder must have for a cluster to go there: far more than a race server's texts. */
const MEMORY_MIN_FREE = 1024 ** 3;

export interface ScratchRoot {
  /** The folder a cluster's private dir is made in. */
  dir: string;
  /** It is memory (a tmpfs), not a disk. */
  inMemory: boolean;
}

/**
 * Where a throwaway cluster's private dir goes. TMPDIR, when set, is the
 * user's choice and always wins; else /dev/shm when it is a tmpfs with at
 * least 1 GiB free; else the system temp folder.
 */
export async function scratchRoot(): Promise<ScratchRoot> {
  return !process.env.TMPDIR && (await roomyTmpfs(MEMORY_DIR)) ? { dir: MEMORY_DIR, inMemory: true } : { dir: tmpdir(), inMemory: false };
}

/** When the cluster's folder is full: say which, what it needs, and how to choose another. */
export function scratchFullHint(root: ScratchRoot): string {
  return `the ${root.inMemory ? 'memory-backed temp folder' : 'temp folder'} ${root.dir} is full; the throwaway PostgreSQL needs about 15 MB there, plus room for the texts it loads: free some space, or set TMPDIR to a folder on a disk with room`;
}

async function roomyTmpfs(dir: string): Promise<boolean> {
  try {
    const st = await fs.statfs(dir);
    return st.type === TMPFS_MAGIC && st.bavail * st.bsize >= MEMORY_MIN_FREE;
  } catch {
    return false; // no such folder (macOS, Windows)
  }
}

/** The environment variable that sets the load budget in bytes (see loadBudget). */
export const LOAD_LIMIT_ENV = 'RECOVER_TEXTS_LOAD_LIMIT';

/** RECOVER_TEXTS_LOAD_LIMIT's value as bytes; undefined when unset or empty. */
export function parseLoadLimit(set: string | undefined): number | undefined {
  if (set === undefined || set === '') return undefined;
  if (!/^\d{1,15}$/.test(set)) {
    throw new RecoverError('LOAD_LIMIT_INVALID', `${LOAD_LIMIT_ENV} must be a number of bytes, found ${JSON.stringify(set.slice(0, 40))}`, {
      hint: `e.g. ${LOAD_LIMIT_ENV}=2000000000 for 2 GB, or unset it`,
    });
  }
  return Number(set);
}

export interface LoadBudget {
  bytes: number;
  /** Where it comes from, for the message when it is passed. */
  why: string;
}

/**
 * How many bytes of rows one backup may load into the throwaway database: `limit`
 * (RECOVER_TEXTS_LOAD_LIMIT) when set, else half the free space of the folder the
 * cluster went in (measured now, so each backup loaded into one cluster gets half of
 * what the ones before it left). A small compression bomb in a wanted table then stops
 * with a clear error instead of filling /dev/shm, which is the machine's memory. None
 * when the server's data is not on this machine (Docker, --database-url): that space
 * is not ours to measure.
 */
export async function loadBudget(scratch: ScratchRoot | undefined, limit: number | undefined): Promise<LoadBudget | undefined> {
  if (limit !== undefined) return { bytes: limit, why: LOAD_LIMIT_ENV };
  if (!scratch) return undefined;
  try {
    const st = await fs.statfs(scratch.dir);
    return { bytes: Math.floor((st.bavail * st.bsize) / 2), why: `half the free space of ${scratch.inMemory ? 'the memory-backed folder ' : ''}${scratch.dir}` };
  } catch {
    return undefined;
  }
}

/** Every folder a temp dir of this tool may be in: where stale ones are looked for. */
export function scratchRoots(): string[] {
  return [...new Set([tmpdir(), MEMORY_DIR])];
}

export async function makePrivateTempDir(root: string = tmpdir()): Promise<string> {
  let dir: string;
  try {
    dir = await fs.mkdtemp(join(root, TEMP_PREFIX)); // mkdtemp makes it 0700
  } catch (e) {
    throw unusableTempFolder(root, e as NodeJS.ErrnoException);
  }
  await fs.writeFile(join(dir, MARKER), JSON.stringify({ pid: process.pid, created: new Date().toISOString() }) + '\n', { mode: 0o600, flag: 'wx' });
  return dir;
}

/** The temp folder itself is missing or closed to us: say which folder, and how to choose another. */
function unusableTempFolder(root: string, e: NodeJS.ErrnoException): Error {
  const what =
    e.code === 'ENOENT' ? 'does not exist'
    : e.code === 'ENOTDIR' ? 'is not a folder'
    : e.code === 'EACCES' || e.code === 'EPERM' ? 'is not writable by you'
    : e.code === 'EROFS' ? 'is on a read-only file system'
    : e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'is full'
    : null;
  if (!what) return e;
  const chosen = process.env.TMPDIR ? 'TMPDIR' : 'the system temp folder';
  return new RecoverError('TEMP_DIR_UNUSABLE', `the temp folder ${root} (${chosen}) ${what}, so no private temp dir can be made there (${e.code})`, {
    hint: process.env.TMPDIR
      ? 'set TMPDIR to a folder that exists and that you may write (e.g. TMPDIR=/tmp), or unset it'
      : 'make /tmp writable (mode 1777), or set TMPDIR to a folder that exists and that you may write',
    cause: e,
  });
}
