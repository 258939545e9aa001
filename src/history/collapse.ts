/**
 * A year of nightly backups is 365 rows, most of them saying "nothing
 * changed". For display, runs of such backups fold into one row; the rows
 * that tell the story stay. The JSON keeps every row: scripts want them all.
 */
import { isChange, type History } from './model.js';

/**
 * A run of fewer unchanged backups than this stays as rows: folding one or
 * two rows into one saves nothing and hides their dates.
 */
export const MIN_FOLDED = 3;

/** One row to show: a backup, or a run of backups folded into one row. */
export type ShownRow =
  | { kind: 'backup'; index: number }
  /** Backups first..last (indices, both included) where nothing changed; count = last - first + 1. */
  | { kind: 'folded'; first: number; last: number; count: number };

/**
 * The rows to show for backups 0..keep.length-1, oldest first. `keep[i]` says
 * backup i must be shown (something changed on it, or a note refers to it);
 * the first and the last backup are always shown. Every run of at least
 * MIN_FOLDED other backups becomes one `folded` row; shorter runs stay rows.
 *
 * Knows nothing of histories: a view over many students (or anything with
 * one row per backup) passes its own `keep`; `historyKeeps` gives one
 * student's.
 */
export function collapseRuns(keep: readonly boolean[]): ShownRow[] {
  const out: ShownRow[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length >= MIN_FOLDED) out.push({ kind: 'folded', first: run[0]!, last: run.at(-1)!, count: run.length });
    else for (const index of run) out.push({ kind: 'backup', index });
    run = [];
  };
  keep.forEach((k, index) => {
    if (k || index === 0 || index === keep.length - 1) {
      flush();
      out.push({ kind: 'backup', index });
    } else run.push(index);
  });
  flush();
  return out;
}

/**
 * Which of a history's backups must be shown: those where any task's text
 * changed (new after the first backup, changed, shrunk, gone), a task or the
 * account was renamed, enabled or disabled, or deleted; and those a status or
 * restore note names (the loss, the last good date, the version to restore).
 */
export function historyKeeps(h: History): boolean[] {
  const keep = h.dates.map(() => false);
  const mark = (at: { index: number } | null | undefined) => {
    if (at) keep[at.index] = true;
  };
  for (const r of h.user.renames) mark(r.at);
  mark(h.user.deletedAt);
  for (const t of h.tasks) {
    for (const c of t.cells) if (isChange(c)) mark(c.backup);
    for (const r of t.renames) mark(r.at);
    for (const e of t.enabledChanges) mark(e.at);
    mark(t.deletedAt);
    mark(t.lostAt?.backup);
    mark(t.restoreFrom?.backup);
    mark(t.lastGood?.backup);
  }
  return keep;
}

/** The rows to show for a history: collapseRuns over historyKeeps, or every backup when `all` (--all-dates). */
export function shownRows(h: History, all = false): ShownRow[] {
  return all ? h.dates.map((d) => ({ kind: 'backup', index: d.index })) : collapseRuns(historyKeeps(h));
}

/** A folded row in words: "180 backups, no change (2026-01-02 to 2026-06-30)". */
export function foldedText(h: History, row: Extract<ShownRow, { kind: 'folded' }>): string {
  return `${row.count} backups, no change (${h.dates[row.first]!.date} to ${h.dates[row.last]!.date})`;
}
