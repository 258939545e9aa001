/** The history model: snapshots per date in, each task's versions, changes and losses out. */
import { createTwoFilesPatch } from 'diff';
import { DATE_SOURCE_NOTE, type BackupDate } from '../detect/index.js';
import { taskOrder, type TextRecord } from '../query/index.js';
import type { Snapshot, SnapshotTask } from '../session/index.js';


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

export type Change = 'new' | 'changed' | 'unchanged' | 'shrunk' | 'gone' | 'none';
const LOSSES: readonly Change[] = ['shrunk', 'gone'];

/** One task's text(s) on one date. A student may have two texts for a task (no unique constraint): both, in text id order. */
interface Version {
  /** Shared by the cells it did not change in: never changed once made. */
  texts: readonly TextRecord[];
  /** The texts joined (with DUPLICATE_SEPARATOR when there are several): what is compared and shown. */
  text: string;
  length: number;
}

/** Shown between two texts a student has for one task. */
export const DUPLICATE_SEPARATOR = '\n\n----- (a second text for this task) -----\n\n';

/** One backup of a history, as its cells and pointers hold it. */
export interface HistoryBackup {
  /** Its place among the history's backups, oldest first (0). */
  index: number;
  path: string;
  /** backupDate(): YYYY-MM-DD, or YYYY-MM-DD HH:MM from an archive header. */
  date: string;
  dateSource: string;
}

/** How a backup's date is known, in the words the terminal, the JSON and the report all use. */
export function dateNote(source: string): string {
  return DATE_SOURCE_NOTE[source as BackupDate['source']] ?? source;
}

/** One task on one backup's date. */
export interface Cell {
  /** The backup this is of. */
  backup: HistoryBackup;
  state: Change;
  version: Version | null;
  /** The task's stored name on that date; null when the task did not exist. */
  taskName: string | null;
  isEnabled: boolean | null;
  /** The newest earlier cell with a version (what a change here is from); null when there is none. */
  previous: VersionCell | null;
}

/** A cell with a version: a text that can be shown, compared or taken. */
export type VersionCell = Cell & { version: Version };

export function hasVersion(c: Cell): c is VersionCell {
  return c.version !== null;
}

interface Rename {
  /** The first backup with the new name. */
  at: HistoryBackup;
  from: string;
  to: string;
}

type TaskStatus =
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
  /** The backups where is_enabled changed. */
  enabledChanges: { at: HistoryBackup; isEnabled: boolean }[];
  /** The first backup where the task no longer exists, when it was deleted and not re-created. */
  deletedAt: HistoryBackup | null;
  status: TaskStatus;
  /** The cell of the latest loss, if any. */
  lostAt: Cell | null;
  /**
   * The version to restore, for a task still lost: the longest version before
   * the loss, on the newest date it existed. Null otherwise.
   */
  restoreFrom: VersionCell | null;
  /** The newest good version: restoreFrom for a lost task, else the newest cell with text. */
  lastGood: VersionCell | null;
}

export interface History {
  user: {
    id: number;
    username: string;
    renames: Rename[];
    /**
     * The account was deleted: the first backup after the newest one that has it. Null
     * while the newest backup has it. Its texts are shown up to then; nothing can be
     * uploaded to it until it exists again.
     */
    deletedAt: HistoryBackup | null;
  };
  /** The backups, oldest first. */
  dates: HistoryBackup[];
  tasks: TaskHistory[];
}

/** Build the history from snapshots ordered oldest first (session/backupOrder). */
export function buildHistory(snapshots: readonly Snapshot[], userId: number): History {
  const taskIds = new Set<number>();
  for (const s of snapshots) for (const t of s.texts) taskIds.add(t.taskId);

  // Each snapshot with the backup its cells and pointers will hold.
  const held = snapshots.map((s, index) => ({ s, backup: { index, path: s.path, date: s.date, dateSource: s.dateSource } }));
  // Each backup's tasks and texts by task id, made once for each list (scan builds many students' histories over a
  // year, and gives the backups where nothing of the student's changed the very lists of the backup before).
  const taskMaps = new Map<readonly SnapshotTask[], Map<number, SnapshotTask>>();
  const textMaps = new Map<readonly TextRecord[], Map<number, TextRecord[]>>();
  const byTask = snapshots.map((s) => ({ tasks: madeOnce(taskMaps, s.tasks, firstById), texts: madeOnce(textMaps, s.texts, textsByTask) }));
  const tasks = [...taskIds].map((id) => taskHistory(held, byTask, id));
  tasks.sort((a, b) => taskOrder({ ...a, id: a.taskId }, { ...b, id: b.taskId }));

  const names = held.map(({ s, backup }) => ({ at: backup, name: s.user?.username ?? null }));
  const lastHeld = held.filter(({ s }) => s.user !== null).at(-1);
  const deletedAt = lastHeld && lastHeld !== held.at(-1) ? held[lastHeld.backup.index + 1]!.backup : null;
  return {
    user: { id: userId, username: names.map((n) => n.name).filter((n) => n !== null).at(-1) ?? String(userId), renames: renamesOf(names), deletedAt },
    dates: held.map((x) => x.backup),
    tasks,
  };
}

/** `make(key)`, made once for each key (a list, by identity) and kept in `made`. */
function madeOnce<K, V>(made: Map<K, V>, key: K, make: (key: K) => V): V {
  let value = made.get(key);
  if (value === undefined) made.set(key, (value = make(key)));
  return value;
}

/** Each task by id, the first where one is held twice (as find would). */
function firstById(tasks: readonly SnapshotTask[]): Map<number, SnapshotTask> {
  const byId = new Map<number, SnapshotTask>();
  for (const t of tasks) if (!byId.has(t.id)) byId.set(t.id, t);
  return byId;
}

/** The texts of each task, in the order given. */
function textsByTask(texts: readonly TextRecord[]): Map<number, TextRecord[]> {
  const byTask = new Map<number, TextRecord[]>();
  for (const t of texts) (byTask.get(t.taskId) ?? byTask.set(t.taskId, []).get(t.taskId)!).push(t);
  return byTask;
}

function taskHistory(
  held: readonly { s: Snapshot; backup: HistoryBackup }[],
  byTask: readonly { tasks: Map<number, SnapshotTask>; texts: Map<number, TextRecord[]> }[],
  taskId: number,
): TaskHistory {
  const infos = byTask.map((b) => b.tasks.get(taskId) ?? null);
  const cells: Cell[] = [];
  let previous: VersionCell | null = null;
  let lastTexts: TextRecord[] | undefined;
  for (const { backup } of held) {
    const info = infos[backup.index]!;
    const texts = byTask[backup.index]!.texts.get(taskId) ?? [];
    // The very records of the backup before (scan's timelines share them while nothing changed): the same
    // version, shared by the cells (versions are never changed once made).
    const version = lastTexts && sameRecords(texts, lastTexts) ? (cells.at(-1)?.version ?? null) : versionOf(texts);
    lastTexts = texts;
    const cell: Cell = {
      backup,
      state: classify(cells.at(-1)?.version ?? null, version),
      version,
      taskName: info?.storedName ?? null,
      isEnabled: info?.isEnabled ?? null,
      previous,
    };
    cells.push(cell);
    if (hasVersion(cell)) previous = cell;
  }
  // A text with no task row (a damaged backup) still names its task.
  const latestInfo = infos.filter((i) => i !== null).at(-1);
  const latestText = cells.filter(hasVersion).at(-1)?.version.texts[0];
  const name = latestInfo?.storedName ?? latestText?.storedTaskName ?? `task ${taskId}`;

  // The dates the task existed on are those whose cell has its name.
  const existing = cells.filter((c) => c.taskName !== null);
  const enabledChanges: TaskHistory['enabledChanges'] = [];
  let prevEnabled: boolean | null = null;
  for (const c of existing) {
    if (prevEnabled !== null && c.isEnabled !== prevEnabled) enabledChanges.push({ at: c.backup, isEnabled: c.isEnabled! });
    prevEnabled = c.isEnabled;
  }
  const lastExisting = existing.at(-1);
  const deletedAt = lastExisting && lastExisting !== cells.at(-1) ? cells[lastExisting.backup.index + 1]!.backup : null;

  const lostAt = cells.filter((c) => LOSSES.includes(c.state)).at(-1) ?? null;
  let status: TaskStatus = 'ok';
  let restoreFrom: VersionCell | null = null;
  let lastGood: VersionCell | null = cells.filter(hasVersion).at(-1) ?? null;
  if (lostAt) {
    const best = longestBefore(cells, lostAt);
    const now = cells.at(-1)?.version ?? null;
    if (best !== null && (now === null || isSharpShrink(best.version.length, now.length))) {
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
    renames: renamesOf(cells.map((c) => ({ at: c.backup, name: c.taskName }))),
    enabledChanges,
    deletedAt,
    status,
    lostAt,
    restoreFrom,
    lastGood,
  };
}

function sameRecords(a: readonly TextRecord[], b: readonly TextRecord[]): boolean {
  return a.length === b.length && a.every((t, k) => t === b[k]);
}

/**
 * Whether a task's texts going from `before` to `after` (null: none) is a loss as a history marks
 * one (gone, or shrunk sharply: classify): scan builds only the histories of students with one.
 */
export function losesText(before: readonly TextRecord[] | null, after: readonly TextRecord[] | null): boolean {
  return LOSSES.includes(classify(versionOf(before ?? []), versionOf(after ?? [])));
}

function versionOf(texts: readonly TextRecord[]): Version | null {
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

/** The longest version before the cell `end`, on the newest date it had that length (an unchanged text stays the same version). */
function longestBefore(cells: readonly Cell[], end: Cell): VersionCell | null {
  let best: VersionCell | null = null;
  for (const c of cells.slice(0, end.backup.index)) {
    if (hasVersion(c) && (best === null || c.version.length >= best.version.length)) best = c;
  }
  return best;
}

/** Name changes between consecutive dates that have a name (a missing date does not break the chain). */
function renamesOf(names: readonly { at: HistoryBackup; name: string | null }[]): Rename[] {
  const out: Rename[] = [];
  let prev: string | null = null;
  names.forEach(({ at, name: n }) => {
    if (n === null) return;
    if (prev !== null && n !== prev) out.push({ at, from: prev, to: n });
    prev = n;
  });
  return out;
}

/** One change of a task's text between two dates, as a unified diff. */
export interface VersionDiff {
  /** The previous version (null: there was none) and this date's cell. */
  from: VersionCell | null;
  to: Cell;
  state: Change;
  patch: string;
}

/** Did the text change on this cell's date? A text that is new on the first date is where the history starts, not a change. */
export function isChange(cell: Cell): boolean {
  return cell.state === 'changed' || cell.state === 'shrunk' || cell.state === 'gone' || (cell.state === 'new' && cell.backup.index > 0);
}

/** Unified diffs between consecutive versions of a task, one per date where it changed (new after the first date, changed, shrunk, gone). */
export function taskDiffs(task: TaskHistory, context = 3): VersionDiff[] {
  const out: VersionDiff[] = [];
  for (const cell of task.cells.filter(isChange)) {
    const prev = cell.previous;
    const before = prev?.version.text ?? '';
    const after = cell.version?.text ?? '';
    const name = (c: Cell | null) => (c === null ? '/dev/null' : `${c.taskName ?? task.name}@${c.backup.date}`);
    const patch = createTwoFilesPatch(name(prev), cell.version ? name(cell) : '/dev/null', before, after, undefined, undefined, { context, timeout: 2000 });
    out.push({ from: prev, to: cell, state: cell.state, patch: patch ?? `(the change from ${name(prev)} to ${name(cell)} is too large to show)\n` });
  }
  return out;
}
