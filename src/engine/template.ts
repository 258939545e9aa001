/**
 * The data-directory template: what initdb makes, kept once per machine in
 * the user's cache and copied for each throwaway cluster, so that initdb
 * (most of a small export's time) is paid once, not on every run.
 *
 *   $XDG_CACHE_HOME/recover-texts/ (else ~/.cache/recover-texts/), mode 0700
 *     template-<stamp hash>/          mode 0700
 *       stamp.json                    what it was made by and with (see stampOf)
 *       data/                         initdb's output, less the template databases (see cluster.ts)
 *
 * The template is kept before any backup is read, so it never holds
 * anything from one, and it holds no secret: the throwaway server needs no
 * password. It is used only when the cache
 * dir and the template are the user's own and private; otherwise the run
 * says why and goes on without the cache (wrong owner) or rebuilds it (open
 * mode, different stamp). `--no-cache` never reads or writes it;
 * `recover-texts cache --clear` removes it; templates unused for 30 days go
 * by themselves (cache.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFileSync, mkdirSync, promises as fs, readdirSync, rmSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cacheDir, lstatOrNull, notPrivate, pruneCache, removeEntry } from './cache.js';

/** Bump when the template's layout or what goes into it changes. */
const TEMPLATE_FORMAT = 3;

export interface TemplateStamp {
  format: number;
  /** Where the binaries come from, and the postgres binary itself (a new package version changes it). */
  binaries: string;
  postgres: { path: string; size: number; mtimeMs: number };
  /** initdb's options (everything but the paths). */
  initdb: readonly string[];
}

export interface Template {
  /** The initialised data directory to copy. */
  data: string;
}

export async function stampOf(binDir: string, source: string, initdbArgs: readonly string[]): Promise<TemplateStamp> {
  const path = await fs.realpath(join(binDir, 'postgres'));
  const st = await fs.stat(path);
  return { format: TEMPLATE_FORMAT, binaries: source, postgres: { path, size: st.size, mtimeMs: st.mtimeMs }, initdb: initdbArgs };
}

function templateName(stamp: TemplateStamp): string {
  return `template-${createHash('sha256').update(JSON.stringify(stamp)).digest('hex').slice(0, 16)}`;
}

/**
 * The cache dir, made private if new. Null (with one note) when it cannot be
 * trusted and is not ours to fix, or cannot be made at all (a home that does
 * not exist or is not writable, as for cron jobs, services and `nobody`):
 * then the run does without the cache. Asked once per run.
 */
function openCache(log: (m: string) => void): Promise<string | null> {
  const dir = cacheDir();
  if (opened?.dir !== dir) opened = { dir, cache: openCacheOnce(dir, log) };
  return opened.cache;
}

let opened: { dir: string; cache: Promise<string | null> } | undefined;

/** Local file-system errors that mean "this place cannot be used", not a bug. */
const UNUSABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT', 'ELOOP']);

async function openCacheOnce(dir: string, log: (m: string) => void): Promise<string | null> {
  if (typeof process.getuid !== 'function') return null;
  const without = (why: string) => {
    log(
      `running without the PostgreSQL template cache: ${why}; each run initialises its own data directory (about a second). ` +
        'Set XDG_CACHE_HOME to a folder you may write, or pass --no-cache to silence this',
    );
    return null;
  };
  let st: Stats | null;
  try {
    st = await lstatOrNull(dir);
    if (!st) {
      // A missing home is never made: only the cache folders under it ($XDG_CACHE_HOME may be made).
      const home = process.env.XDG_CACHE_HOME?.startsWith('/') ? null : homedir();
      if (home && !(await lstatOrNull(home))?.isDirectory()) return without(`the home folder ${home} does not exist`);
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      st = await fs.lstat(dir);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code && UNUSABLE.has(err.code)) return without(`${dir} cannot be made (${err.code}${err.path && err.path !== dir ? ` on ${err.path}` : ''})`);
    throw e;
  }
  const why = notPrivate(st);
  if (!why) return dir;
  if (st.isDirectory() && !st.isSymbolicLink() && st.uid === process.getuid()) {
    // Ours but open to others: what it holds cannot be trusted; start it afresh.
    log(`the cache ${dir} was not private (${why}); rebuilt it with mode 0700`);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { mode: 0o700 });
    return dir;
  }
  log(`not using the cache ${dir}: ${why}; initialising a new PostgreSQL data directory for this run (remove that path, or pass --no-cache to silence this)`);
  return null;
}

/** The cached template for `stamp`, if there is a sound one. A broken or stale one is removed. */
export async function findTemplate(stamp: TemplateStamp, log: (m: string) => void): Promise<Template | null> {
  const cache = await openCache(log);
  if (!cache) return null;
  const dir = join(cache, templateName(stamp));
  const st = await lstatOrNull(dir);
  if (!st) return null;
  const why = notPrivate(st);
  const stamped = await fs.readFile(join(dir, 'stamp.json'), 'utf8').catch(() => '');
  if (!why && stamped === JSON.stringify(stamp) && (await lstatOrNull(join(dir, 'data', 'PG_VERSION')))) {
    // Its time is when it was last used: pruning (cache.ts) removes only long-unused templates.
    const now = new Date();
    await fs.utimes(dir, now, now).catch(() => {});
    await pruneCache(cache, basename(dir), log, true);
    return { data: join(dir, 'data') };
  }
  log(`the cached PostgreSQL template ${dir} ${why ? `was not private (${why})` : 'was incomplete or did not match its stamp'}; rebuilding it`);
  await removeEntry(cache, basename(dir));
  return null;
}

/**
 * Copy the template's data directory to `to` (which must not exist), inside
 * a dir that is still ours alone (as root, cluster.ts hands it over after).
 * False, with `to` removed and a note, when the template was removed while
 * being copied (another run cleared or pruned the cache: cache.ts renames
 * it away first, so every path after that fails): the run initialises its own.
 */
export function copyFromTemplate(template: Template, to: string, log: (m: string) => void): boolean {
  try {
    copyTree(template.data, to);
    return true;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT' || !err.path?.startsWith(dirname(template.data))) throw e;
    rmSync(to, { recursive: true, force: true });
    log(`the cached PostgreSQL template ${dirname(template.data)} was removed while this run copied it (another run cleared or pruned the cache); initialising a new data directory`);
    return false;
  }
}

/**
 * Files are copied, not linked: the server writes to
 * them. Synchronously: its 700-odd small files copy in about 35 ms so, twice
 * as fast as through libuv's thread pool, whose round trips cost more than
 * the copies; the backup's reading, which may be running, waits that long.
 */
function copyTree(data: string, to: string): void {
  mkdirSync(to, { mode: 0o700 });
  for (const entry of readdirSync(data, { withFileTypes: true })) {
    const from = join(data, entry.name);
    const into = join(to, entry.name);
    if (entry.isDirectory()) copyTree(from, into);
    // copyFileSync keeps the mode (0600, as initdb made it).
    else if (entry.isFile()) copyFileSync(from, into);
  }
}

/**
 * Copy a data directory that another account owns (root's server user made
 * it) without trusting it: no path inside is followed as a symlink, and only
 * regular files that account owns are read, checked on the opened file
 * (O_NOFOLLOW, fstat). Whatever that account swaps in meanwhile, root copies
 * nothing it could not read itself.
 */
async function copyOwnedTree(from: string, to: string, uid: number): Promise<void> {
  await fs.mkdir(to, { mode: 0o700 });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) {
      await copyOwnedTree(src, dst, uid);
      continue;
    }
    if (!entry.isFile()) throw new Error(`${src} is not a regular file or folder`);
    const file = await fs.open(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await file.stat();
      if (!st.isFile() || st.uid !== uid) throw new Error(`${src} is not a regular file of user id ${uid}`);
      await fs.writeFile(dst, await file.readFile(), { mode: st.mode & 0o700, flag: 'wx' });
    } finally {
      await file.close();
    }
  }
}

/**
 * Keep `data` (a fresh initdb's output, slimmed, before any backup is read) as the
 * template for `stamp`. Templates of other stamps (an older embedded
 * PostgreSQL) are removed once unused for 30 days (cache.ts): another installation on
 * this machine (a second checkout, a global install) may be copying its own
 * right now, and two installations must not keep removing each other's.
 * Best effort: a failure only costs the next run
 * another initdb, and is noted.
 */
export async function saveTemplate(data: string, stamp: TemplateStamp, log: (m: string) => void, owner?: number): Promise<void> {
  const cache = await openCache(log);
  if (!cache) return;
  const partial = join(cache, `.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(partial, { mode: 0o700 });
    // As root, `data` is the server's user's: copied without following anything it could plant.
    if (owner !== undefined && owner !== process.getuid?.()) await copyOwnedTree(data, join(partial, 'data'), owner);
    else await fs.cp(data, join(partial, 'data'), { recursive: true });
    await fs.writeFile(join(partial, 'stamp.json'), JSON.stringify(stamp), { mode: 0o600 });
    const name = templateName(stamp);
    // Another run may have saved the same template meanwhile: then keep theirs.
    await fs.rename(partial, join(cache, name)).catch(() => {});
    await pruneCache(cache, name, log);
  } catch (e) {
    log(`could not keep a PostgreSQL template in ${cache} (${(e as Error).message}); the next run will initialise its own`);
  } finally {
    await fs.rm(partial, { recursive: true, force: true });
  }
}
