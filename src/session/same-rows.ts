/**
 * Backups whose rows are the same load once. A year of nightly backups holds
 * few distinct states of what a history reads: a student edits once a week
 * in term time, and nobody at all in the holidays. Every other night's
 * filtered rows (the class's users and tasks, the student's texts) are those
 * of the night before, byte for byte, though the files never are (pg_dump's
 * `\restrict` key is new each time). Such a backup is read and checked as
 * any other, and then shares the earlier one's schema instead of making,
 * filling and querying its own.
 */
import type { Filtered, LoadedRows } from './load.js';

export class SameRows {
  /** Each digest's first load (Filtered.digest), as it goes. */
  private readonly loads = new Map<string, Promise<LoadedRows>>();

  /**
   * `filtered`'s rows in the server: an earlier backup's with the same digest, given to `same`
   * (which checks this backup's own reading); else loaded by `load`, and kept for later ones.
   */
  async rows(filtered: Filtered, load: () => Promise<LoadedRows>, same: (earlier: LoadedRows) => LoadedRows): Promise<LoadedRows> {
    // Known only when every row was held: past that, the rows load as they are read.
    const digest = filtered.held ? filtered.digest : undefined;
    if (digest === undefined) return load();
    const earlier = this.loads.get(digest);
    if (!earlier) {
      const loading = load();
      this.loads.set(digest, loading);
      return loading;
    }
    // One that failed is no answer for this backup: it loads its own, and fails with its own name.
    const got = await earlier.catch(() => undefined);
    return got ? same(got) : load();
  }
}
