/**
 * "Did you mean": for a path that does not exist, the closest names in its
 * folder (a typo in a nightly backup's date, a wrong extension such as `.tar`
 * for `.sql.gz`). A named backup that is missing fails the command, so the
 * hint should say what the admin probably meant.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { distance } from 'fastest-levenshtein';

/** At most this many suggestions. */
const MAX_SUGGESTIONS = 3;

/** The name before its first dot: the part that carries the date. */
const stem = (name: string) => name.toLowerCase().replace(/\..*$/, '');

/**
 * Existing paths in `path`'s folder whose names are closest to its name.
 * Names are compared by their stem first (so `_20241104.tar` finds
 * `_20241104.sql.gz`, not `_20241105.tar`), within a third of the stem's
 * length in edits (at least 2), then by the whole name. Only the closest are
 * given (ties in name order): the next nightly backup is always one edit
 * further and would drown the real one. None when the folder does not exist.
 */
export async function nearbyPaths(path: string): Promise<string[]> {
  const dir = dirname(path);
  const name = basename(path);
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const limit = Math.max(2, Math.floor(stem(name).length / 3));
  const close = entries
    .map((e) => ({ e, s: distance(stem(name), stem(e)), d: distance(name.toLowerCase(), e.toLowerCase()) }))
    .filter(({ s }) => s <= limit)
    .sort((a, b) => a.s - b.s || a.d - b.d || (a.e < b.e ? -1 : 1));
  return close
    .filter(({ s, d }) => s === close[0]!.s && d === close[0]!.d)
    .slice(0, MAX_SUGGESTIONS)
    .map(({ e }) => (dir === '.' && !path.startsWith('./') ? e : join(dir, e)));
}
