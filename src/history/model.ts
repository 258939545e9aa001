/** The history model: snapshots per date in, each task's versions, changes and losses out. */
import { createTwoFilesPatch } from 'diff';
import { taskOrder, type TextRecord, type UserRecord } from '../query/index.js';


/**
 * "Shrunk sharply": the new text is less than RATIO of the previous one's
 * length AND at least MIN_CHARS characters shorter. The second condition
 * keeps small edits of short texts ("TODO: write it." -> "TODO") from
 * counting as losses. Lengths are in characters (Unicode code points).
 */
export const SHARP_SHRINK = { ratio: 0.5, minChars: 20 } as const;

export const SHARP_SHRINK_TEXT = `less than ${SHARP_SHRINK.ratio * 100}% of its previous length and at least ${SHARP_SHRINK.minChars} characters shorter`;

export function isSharpShrink(before: number, after: number): boolean {
  return after < before * SHARP_SHRINK.ratio && before - after >= SHARP_SHRINK.minChars;
}

/** Length in characters (code points), as shown to the admin. */
export function textLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * A task's title worth showing next to its name: none when empty or of the
 * form "Task 3-MULTI". Such titles only repeat a name, and go stale when the
 * task is renamed (a report once headed 3-MULTIPLE with "Task 3-MULTI").
 */
export function displayTitle(t: { title: string | null }): string | null {
  const title = t.title?.trim();
  if (!title || /^task\s+\d+-\S+$/i.test(title)) return null;
  return title;
}

/** A task as one backup stores it. */
export interface SnapshotTask {
  id: number;
  /** `<phase>-<name>` exactly as stored. */
  storedName: string;
  phase: number;
  sortPosition: number;
  isEnabled: boolean;
  title: string | null;
}

/** What one backup holds about the student. */
export interface Snapshot {
  path: string;
  /** backupDate(): YYYY-MM-DD, or YYYY-MM-DD HH:MM from an archive header. */
  date: string;
  dateSource: string;
  /** The student in this backup (found by id), or null when the account did not exist yet. */
  user: { id: number; username: string } | null;
  tasks: SnapshotTask[];
  /** The student's texts in this backup. */
  texts: TextRecord[];
}

export type Change = 'new' | 'changed' | 'unchanged' | 'shrunk' | 'gone' | 'none';
export const LOSSES: readonly Change[] = ['shrunk', 'gone'];

/** One task's text(s) on one date. A student may have two texts for a task (no unique constraint): both, in text id order. */
export interface Version {
  texts: TextRecord[];
  /** The texts joined (with DUPLICATE_SEPARATOR when there are several): what is compared and shown. */
  text: string;
  length: number;
}

/** Shown between two texts a student has for one task. */
export const DUPLICATE_SEPARATOR = '\n\n----- (a second text for this task) -----\n\n';

export interface Cell {
  state: Change;
  version: Version | null;
  /** The task's stored name on that date; null when the task did not exist. */
  taskName: string | null;
  isEnabled: boolean | null;
}

export interface Rename {
  /** Index into History.dates of the first date with the new name. */
  at: number;
  from: string;
  to: string;
}

export type TaskStatus =
  /** never lost anything */
  | 'ok'
  /** lost (gone, or shrunk sharply) and still lost on the newest date */
  | 'lost'
  /** lost, then written back to at least half of what it was */
  | 'rewritten';

export interface TaskHistory {
  taskId: number;
  /** The stored name on the newest date that has the task. */
  name: string;
  title: string | null;
  phase: number;
  sortPosition: number;
  cells: Cell[];
  renames: Rename[];
  /** Dates (indices) where is_enabled changed. */
  enabledChanges: { at: number; isEnabled: boolean }[];
  /** First date (index) the task no longer exists, when it was deleted and not re-created. */
  deletedAt: number | null;
  status: TaskStatus;
  /** Date (index) of the latest loss, if any. */
  lostAt: number | null;
  /**
   * The version to restore, for a task still lost: the longest version before
   * the loss, on the newest date it existed. Null otherwise.
   */
  restoreFrom: number | null;
  /** The newest date with a good version: restoreFrom for a lost task, else the newest date with text. */
  lastGood: number | null;
}

export interface History {
  user: { id: number; username: string; renames: Rename[] };
  dates: { path: string; date: string; dateSource: string }[];
  tasks: TaskHistory[];
}

/** Build the history from snapshots ordered oldest first (session/backupOrder). */
export function buildHistory(snapshots: readonly Snapshot[], userId: number): History {
  const taskIds = new Set<number>();
  for (const s of snapshots) for (const t of s.texts) taskIds.add(t.taskId);

  const tasks = [...taskIds].map((id) => taskHistory(snapshots, id));
  tasks.sort((a, b) => taskOrder({ ...a, id: a.taskId }, { ...b, id: b.taskId }));

  const names = snapshots.map((s) => s.user?.username ?? null);
  return {
    user: { id: userId, username: names.filter((n) => n !== null).at(-1) ?? String(userId), renames: renamesOf(names) },
    dates: snapshots.map((s) => ({ path: s.path, date: s.date, dateSource: s.dateSource })),
    tasks,
  };
}

function taskHistory(snapshots: readonly Snapshot[], taskId: number): TaskHistory {
  const infos = snapshots.map((s) => s.tasks.find((t) => t.id === taskId) ?? null);
  const versions = snapshots.map((s) => versionOf(s.texts.filter((t) => t.taskId === taskId)));
  const cells: Cell[] = versions.map((v, k) => ({
    state: classify(k === 0 ? null : versions[k - 1]!, v),
    version: v,
    taskName: infos[k]?.storedName ?? null,
    isEnabled: infos[k]?.isEnabled ?? null,
  }));
  // A text with no task row (a damaged backup) still names its task.
  const latestInfo = infos.filter((i) => i !== null).at(-1);
  const latestText = versions.filter((v) => v !== null).at(-1)?.texts[0];
  const name = latestInfo?.storedName ?? latestText?.storedTaskName ?? `task ${taskId}`;

  const enabledChanges: TaskHistory['enabledChanges'] = [];
  let prevEnabled: boolean | null = null;
  infos.forEach((info, k) => {
    if (!info) return;
    if (prevEnabled !== null && info.isEnabled !== prevEnabled) enabledChanges.push({ at: k, isEnabled: info.isEnabled });
    prevEnabled = info.isEnabled;
  });
  const lastExisting = lastIndex(infos, (i) => i !== null);
  const deletedAt = lastExisting >= 0 && lastExisting < infos.length - 1 ? lastExisting + 1 : null;

  const lostAt = lastIndex(cells, (c) => LOSSES.includes(c.state));
  let status: TaskStatus = 'ok';
  let restoreFrom: number | null = null;
  let lastGood: number | null = lastIndex(versions, (v) => v !== null);
  if (lostAt >= 0) {
    const best = longestBefore(versions, lostAt);
    const now = versions.at(-1) ?? null;
    if (best !== null && (now === null || isSharpShrink(versions[best]!.length, now.length))) {
      status = 'lost';
      restoreFrom = best;
      lastGood = best;
    } else {
      status = 'rewritten';
    }
  }
  return {
    taskId,
    name,
    title: latestInfo?.title ?? latestText?.taskTitle ?? null,
    phase: latestInfo?.phase ?? latestText?.phase ?? 0,
    sortPosition: latestInfo?.sortPosition ?? latestText?.sortPosition ?? 0,
    cells,
    renames: renamesOf(infos.map((i) => i?.storedName ?? null)),
    enabledChanges,
    deletedAt,
    status,
    lostAt: lostAt >= 0 ? lostAt : null,
    restoreFrom,
    lastGood: lastGood >= 0 ? lastGood : null,
  };
}

function versionOf(texts: TextRecord[]): Version | null {
  if (!texts.length) return null;
  const sorted = [...texts].sort((a, b) => a.textId - b.textId);
  const text = sorted.map((t) => t.text).join(DUPLICATE_SEPARATOR);
  return { texts: sorted, text, length: textLength(text) };
}

function classify(prev: Version | null, cur: Version | null): Change {
  if (!cur) return prev ? 'gone' : 'none';
  if (!prev) return 'new';
  if (prev.text === cur.text) return 'unchanged';
  return isSharpShrink(prev.length, cur.length) ? 'shrunk' : 'changed';
}

/** The longest version before date `end`, on the newest date it had that length (an unchanged text stays the same version). */
function longestBefore(versions: readonly (Version | null)[], end: number): number | null {
  let best: number | null = null;
  for (let k = 0; k < end; k++) {
    const v = versions[k];
    if (v && (best === null || v.length >= versions[best]!.length)) best = k;
  }
  return best;
}

/** Name changes between consecutive dates that have a name (a missing date does not break the chain). */
function renamesOf(names: readonly (string | null)[]): Rename[] {
  const out: Rename[] = [];
  let prev: string | null = null;
  names.forEach((n, k) => {
    if (n === null) return;
    if (prev !== null && n !== prev) out.push({ at: k, from: prev, to: n });
    prev = n;
  });
  return out;
}

/** One change of a task's text between two dates, as a unified diff. */
export interface VersionDiff {
  /** Dates (indices): the previous version's (null: there was none) and this one's. */
  from: number | null;
  to: number;
  state: Change;
  patch: string;
}

/** Did the text change on this date (the k-th)? A text that is new on the first date is where the history starts, not a change. */
export function isChange(cell: Cell, k: number): boolean {
  return cell.state === 'changed' || cell.state === 'shrunk' || cell.state === 'gone' || (cell.state === 'new' && k > 0);
}

/** Unified diffs between consecutive versions of a task, one per date where it changed (new after the first date, changed, shrunk, gone). */
export function taskDiffs(h: History, task: TaskHistory, context = 3): VersionDiff[] {
  const out: VersionDiff[] = [];
  let prev: number | null = null;
  task.cells.forEach((cell, k) => {
    if (isChange(cell, k)) {
      const before = prev === null ? '' : task.cells[prev]!.version!.text;
      const after = cell.version?.text ?? '';
      const name = (k: number | null) => (k === null ? '/dev/null' : `${task.cells[k]!.taskName ?? task.name}@${h.dates[k]!.date}`);
      const patch = createTwoFilesPatch(name(prev), cell.version ? name(k) : '/dev/null', before, after, undefined, undefined, { context, timeout: 2000 });
      out.push({ from: prev, to: k, state: cell.state, patch: patch ?? `(the change from ${name(prev)} to ${name(k)} is too large to show)\n` });
    }
    if (cell.version) prev = k;
  });
  return out;
}

/** How one backup's match for the name given compares: used to follow the student by id. */
export interface UserMatch {
  date: string;
  /** The user this backup's lookup found (findUser), or null. */
  user: UserRecord | null;
}

/**
 * The student to follow: the one the name finds in the newest backup where
 * it finds anyone. Returns the id and, when other backups found another
 * account under that name, a note saying so.
 */
export function chooseUser(matches: readonly UserMatch[]): { id: number; note: string | null } | null {
  const found = matches.filter((m) => m.user !== null);
  const newest = found.at(-1);
  if (!newest) return null;
  const others = found.filter((m) => m.user!.id !== newest.user!.id);
  const note = others.length
    ? `the name also matches another account (${others.map((m) => `${m.user!.username}, id ${m.user!.id}, on ${m.date}`).join('; ')}); following id ${newest.user!.id} (${newest.user!.username} on ${newest.date})`
    : null;
  return { id: newest.user!.id, note };
}

function lastIndex<T>(items: readonly T[], pred: (item: T) => boolean): number {
  for (let k = items.length - 1; k >= 0; k--) if (pred(items[k]!)) return k;
  return -1;
}
