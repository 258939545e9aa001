/**
 * The cache folder that holds the data-directory templates (template.ts):
 * where it is, whether it may be trusted, what it holds, and how its
 * templates go: pruned when long unused, or all at once (`recover-texts cache --clear`).
 *
 * Several runs, of several installations, may use the cache at once, so an
 * entry is never removed where it lies: it is first renamed to
 * `.removing-…` (atomic: a run then finds it whole or not at all), then
 * removed. A run copying a template that is renamed away meanwhile fails
 * on its next path and initialises its own data directory (copyTemplate).
 * Only entries the tool makes are touched: `template-<16 hex>`,
 * `.partial-…` and `.removing-…` directories that are the user's own.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';

/** A template unused this long is removed (its dir's mtime is its last use, see findTemplate). */
export const UNUSED_TEMPLATE_MS = 30 * 24 * 3600_000;
/** How often a run that only uses a template looks for unused ones (a run that makes one always looks). */
const PRUNE_EVERY_MS = 24 * 3600_000;
/** A `.partial-…` this old is a killed run's, not one being written now. */
const PARTIAL_MS = 10 * 60_000;
/** Its mtime is when the cache was last pruned. */
const PRUNED = '.pruned';

const TEMPLATE = /^template-[0-9a-f]{16}$/;
const LEFTOVER = /^\.(partial|removing)-/;

/** The cache dir: $XDG_CACHE_HOME/recover-texts, else ~/.cache/recover-texts. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'recover-texts');
}

/** Why a dir is not ours and private, or null when it is. */
export function notPrivate(st: Stats): string | null {
  if (!st.isDirectory()) return 'it is not a directory';
  if (st.uid !== process.getuid!()) return `it belongs to user id ${st.uid}, not to you (${process.getuid!()})`;
  if (st.mode & 0o077) return `other users may read it (mode ${(st.mode & 0o777).toString(8)})`;
  return null;
}

export async function lstatOrNull(path: string): Promise<Stats | null> {
  return fs.lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
}

/** A dir of the cache the tool made and the user owns (never a symlink), or null. */
async function ownDir(path: string): Promise<Stats | null> {
  const st = await lstatOrNull(path);
  return st?.isDirectory() && st.uid === process.getuid?.() ? st : null;
}

/** Bytes of the regular files under `dir`. */
async function sizeOf(dir: string): Promise<number> {
  let bytes = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) bytes += (await lstatOrNull(join(e.parentPath, e.name)))?.size ?? 0;
  }
  return bytes;
}

/**
 * Remove one entry of the cache safely against other runs: renamed out of
 * the way first, then removed. Returns the bytes freed, or null when another
 * run took it first.
 */
export async function removeEntry(cache: string, entry: string): Promise<number | null> {
  let gone = join(cache, entry);
  if (!entry.startsWith('.removing-')) {
    gone = join(cache, `.removing-${process.pid}-${randomBytes(4).toString('hex')}-${entry}`);
    try {
      await fs.rename(join(cache, entry), gone);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
  // Another run may be removing the same leftover: what it removed first is not ours to count.
  const bytes = await sizeOf(gone).catch(() => 0);
  await fs.rm(gone, { recursive: true, force: true, maxRetries: 2 });
  return bytes;
}

/**
 * Remove templates unused for 30 days (never `keep`, the one this run uses)
 * and what killed runs left. Called when a template is made, and by a run
 * that uses one at most once a day (`daily`). Best effort: a failure is noted.
 */
export async function pruneCache(cache: string, keep: string, log: (m: string) => void, daily = false): Promise<void> {
  try {
    if (daily) {
      const last = await lstatOrNull(join(cache, PRUNED));
      if (last && Date.now() - last.mtimeMs < PRUNE_EVERY_MS) return;
    }
    const now = new Date();
    await fs.writeFile(join(cache, PRUNED), '', { mode: 0o600 });
    await fs.utimes(join(cache, PRUNED), now, now);
    for (const entry of await fs.readdir(cache)) {
      if (entry === keep || !(TEMPLATE.test(entry) || LEFTOVER.test(entry))) continue;
      const st = await ownDir(join(cache, entry));
      if (!st) continue;
      const idle = Date.now() - st.mtimeMs;
      // Another run's .partial-* may be being written now, another installation's template used now.
      const old = entry.startsWith('.removing-') || idle > (entry.startsWith('.partial-') ? PARTIAL_MS : UNUSED_TEMPLATE_MS);
      if (old) await removeEntry(cache, entry);
    }
  } catch (e) {
    log(`could not remove unused PostgreSQL templates from ${cache} (${(e as Error).message}); the next run will try again`);
  }
}

interface CachedTemplate {
  /** Its folder's name, template-<hash>. */
  name: string;
  /** What PostgreSQL it is for (its stamp), or null when its stamp is missing or unreadable. */
  binaries: string | null;
  postgres: string | null;
  bytes: number;
  /** When a run last used (or made) it. */
  lastUsed: Date;
}

export interface CacheContents {
  dir: string;
  /** False when there is no cache yet. */
  exists: boolean;
  templates: CachedTemplate[];
  /** What killed or running runs left (.partial-*, .removing-*): how many, and their bytes. */
  leftovers: { entries: number; bytes: number };
  totalBytes: number;
}

/** The cache dir, checked: null when there is none; a RecoverError when it is not the user's own. */
async function ownCache(): Promise<{ dir: string; st: Stats | null }> {
  const dir = cacheDir();
  let st: Stats | null;
  try {
    st = await lstatOrNull(dir);
  } catch (e) {
    throw unusable(dir, (e as NodeJS.ErrnoException).code ?? (e as Error).message, e);
  }
  if (st && typeof process.getuid === 'function') {
    const why = notPrivate(st);
    // One that is ours but open to others is still ours to list and clear (the next run rebuilds it).
    if (why && !(st.isDirectory() && st.uid === process.getuid())) throw unusable(dir, why);
  }
  return { dir, st };
}

function unusable(dir: string, why: string, cause?: unknown): RecoverError {
  return new RecoverError('CACHE_UNUSABLE', `the PostgreSQL template cache ${dir} cannot be used: ${why}`, {
    hint: 'runs do without it (see the note they print); remove that path yourself, or set XDG_CACHE_HOME to a folder of yours',
    cause,
  });
}

/** What the cache holds, for `recover-texts cache`. Never makes it. */
export async function listCache(): Promise<CacheContents> {
  const { dir, st } = await ownCache();
  const contents: CacheContents = { dir, exists: st !== null, templates: [], leftovers: { entries: 0, bytes: 0 }, totalBytes: 0 };
  if (!st) return contents;
  try {
    for (const entry of (await fs.readdir(dir)).sort()) {
      const path = join(dir, entry);
      const own = await ownDir(path);
      if (!own) continue;
      // An entry removed by another run meanwhile counts as nothing.
      const bytes = await sizeOf(path).catch(() => 0);
      if (TEMPLATE.test(entry)) {
        const stamp = await readStamp(join(path, 'stamp.json'));
        contents.templates.push({ name: entry, binaries: stamp?.binaries ?? null, postgres: stamp?.postgres ?? null, bytes, lastUsed: own.mtime });
      } else if (LEFTOVER.test(entry)) {
        contents.leftovers.entries++;
        contents.leftovers.bytes += bytes;
      } else continue;
      contents.totalBytes += bytes;
    }
  } catch (e) {
    throw unusable(dir, `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  return contents;
}

async function readStamp(path: string): Promise<{ binaries: string | null; postgres: string | null } | null> {
  try {
    const stamp = JSON.parse(await fs.readFile(path, 'utf8')) as { binaries?: unknown; postgres?: { path?: unknown } };
    return { binaries: typeof stamp.binaries === 'string' ? stamp.binaries : null, postgres: typeof stamp.postgres?.path === 'string' ? stamp.postgres.path : null };
  } catch {
    return null;
  }
}

/**
 * Remove every template and leftover of the cache (a `.partial-…` being
 * written now is left to its run), safely against runs in progress: a run
 * copying a template then initialises its own. The cache dir itself stays.
 */
export async function clearCache(): Promise<{ dir: string; removed: string[]; freedBytes: number }> {
  const { dir, st } = await ownCache();
  const cleared = { dir, removed: [] as string[], freedBytes: 0 };
  if (!st) return cleared;
  try {
    for (const entry of (await fs.readdir(dir)).sort()) {
      if (!(TEMPLATE.test(entry) || LEFTOVER.test(entry))) continue;
      const own = await ownDir(join(dir, entry));
      if (!own || (entry.startsWith('.partial-') && Date.now() - own.mtimeMs < PARTIAL_MS)) continue;
      const freed = await removeEntry(dir, entry);
      if (freed === null) continue;
      cleared.freedBytes += freed;
      if (TEMPLATE.test(entry)) cleared.removed.push(entry);
    }
    await fs.rm(join(dir, PRUNED), { force: true });
  } catch (e) {
    throw unusable(dir, `it cannot be cleared (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  return cleared;
}
