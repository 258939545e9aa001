/**
 * The cohort: every student who lost texts across the backups, for `scan`.
 * Pure: it takes what session's cohortTimelines gives (everyone's changes,
 * no queries) and builds each student's History with buildHistory, one
 * student at a time, keeping only the summary; so the loss rules are the
 * history's, in one place. A task is lost when buildHistory says so (gone or
 * shrunk sharply, still so on the newest backup): a rename (user or task,
 * followed by id), a disabled task (its texts stay) or a reshaped upload
 * (same text, new timestamps) is not a loss, and a text written back since
 * the loss to at least half its length is "re-typed", said but not counted; one
 * written again but still sharply shorter is a loss, said as written again. A deleted account's texts are
 * lost on the backup it went; a deleted task's texts likewise.
 */
import type { CohortTimelines } from '../session/index.js';
import { buildHistory, losesText, type HistoryBackup, type TaskHistory } from './model.js';
import { table } from '../table.js';

interface LostTask {
  taskId: number;
  /** The task's stored name on the newest backup that has it. */
  task: string;
  /** The backup where it was lost (its latest loss). */
  lostOn: HistoryBackup;
  /** The backup to restore from: the longest version before the loss, on the newest date it existed. */
  lastGood: HistoryBackup;
  lengthBefore: number;
  /** Its length on the newest backup (0: gone). */
  lengthAfter: number;
  /** The first backup without the task, when the task itself was deleted. */
  taskDeleted: HistoryBackup | null;
  /**
   * The student wrote a new text there since the loss, still sharply shorter than the one lost: their
   * newest work, which --restore (merge --auto) keeps rather than overwrites.
   */
  writtenAgain: boolean;
}

interface RetypedTask {
  taskId: number;
  task: string;
  lostOn: HistoryBackup;
  lengthBefore: number;
  lengthNow: number;
}

export interface CohortStudent {
  id: number;
  username: string;
  name: string | null;
  /** The oldest backup of a loss (of a lost task; of a re-typed one when none is still lost). */
  firstLost: HistoryBackup;
  /** The newest backup before the first loss. */
  lastGood: HistoryBackup;
  /** The first backup without the account, when it was deleted. */
  accountDeleted: HistoryBackup | null;
  lost: LostTask[];
  retyped: RetypedTask[];
}

export interface Cohort {
  /** The backups, oldest first. */
  backups: HistoryBackup[];
  /** The students who lost anything, by the date of their first loss, then username. */
  students: CohortStudent[];
}

/** Every student's losses, one History at a time (see the module comment). */
export function buildCohort(timelines: CohortTimelines): Cohort {
  const backups = timelines.backups.map((b, index) => ({ index, path: b.path, date: b.date, dateSource: b.dateSource }));
  const students: CohortStudent[] = [];
  for (const id of timelines.userIds()) {
    // Most students never lost anything, and their histories are not built to find so: only a student
    // with a loss by the history's own rule (losesText), or whose account went, can be in the cohort.
    if (!timelines.mayHaveLost(id, losesText)) continue;
    const h = buildHistory(timelines.snapshots(id), id);
    const lost = h.tasks.filter((t) => t.status === 'lost');
    const retyped = h.tasks.filter((t) => t.status === 'rewritten');
    if (!lost.length && !retyped.length) continue;
    const first = [...(lost.length ? lost : retyped)].sort((a, b) => a.lostAt!.backup.index - b.lostAt!.backup.index)[0]!.lostAt!.backup;
    students.push({
      id,
      username: h.user.username,
      name: timelines.user(id).name,
      firstLost: backups[first.index]!,
      lastGood: backups[first.index - 1]!,
      accountDeleted: h.user.deletedAt,
      lost: lost.map(lostTask),
      retyped: retyped.map((t) => ({ taskId: t.taskId, task: t.name, lostOn: t.lostAt!.backup, lengthBefore: t.lostAt!.previous!.version.length, lengthNow: newestLength(t) })),
    });
  }
  students.sort((a, b) => a.firstLost.index - b.firstLost.index || (a.username < b.username ? -1 : a.username > b.username ? 1 : a.id - b.id));
  return { backups, students };
}

function newestLength(t: TaskHistory): number {
  return t.cells.at(-1)?.version?.length ?? 0;
}

function lostTask(t: TaskHistory): LostTask {
  return {
    taskId: t.taskId,
    task: t.name,
    lostOn: t.lostAt!.backup,
    lastGood: t.restoreFrom!.backup,
    lengthBefore: t.restoreFrom!.version.length,
    lengthAfter: newestLength(t),
    taskDeleted: t.deletedAt,
    writtenAgain: writtenAgain(t),
  };
}

/** A lost task whose newest text is not the one its loss left (merge's resolveChoices keeps it). */
function writtenAgain(t: TaskHistory): boolean {
  const now = t.cells.at(-1)?.version ?? null;
  const text = (v: typeof now) => v?.texts.map((x) => x.text).join('') ?? null;
  return now !== null && text(now) !== text(t.lostAt!.version);
}

/** Short notes for a student's line: a deleted account, deleted tasks, texts re-typed since. */
export function cohortNotes(s: CohortStudent): string[] {
  const out: string[] = [];
  if (s.accountDeleted) out.push(`account deleted ${s.accountDeleted.date}`);
  const deletedTasks = new Map(s.lost.filter((l) => l.taskDeleted && !s.accountDeleted).map((l) => [l.task, l.taskDeleted!.date]));
  for (const [task, date] of deletedTasks) out.push(`task ${task} deleted ${date}`);
  const again = s.lost.filter((l) => l.writtenAgain).length;
  if (again) out.push(`${again} of them written again since (shorter; kept by --restore)`);
  if (s.retyped.length) out.push(`${s.retyped.length} re-typed since`);
  return out;
}

/** The terminal's answer: a table of one line per student, or the one line saying nobody lost anything. */
export async function renderCohort(c: Cohort): Promise<string> {
  if (!c.students.length) {
    const n = c.backups.length;
    // A loss shows between two backups: one alone can show none.
    if (n === 1) return `no losses in 1 backup (${c.backups[0]!.date}): a loss shows only between two backups, so give more of them, or their folder\n`;
    return `no losses in ${n} backups from ${c.backups[0]!.date} to ${c.backups.at(-1)!.date}\n`;
  }
  return table(
    ['STUDENT', 'NAME', 'LOST', 'FIRST LOST', 'LAST GOOD', 'NOTES'],
    c.students.map((s) => [s.username, s.name ?? '', `${s.lost.length} text${s.lost.length === 1 ? '' : 's'}`, s.firstLost.date, s.lastGood.date, cohortNotes(s).join('; ')]),
  );
}

/**
 * `scan --json`: the shape documented in the README. Dates are backup
 * dates (YYYY-MM-DD, or YYYY-MM-DD HH:MM from an archive header); lengths
 * are in characters.
 */
export function cohortJson(c: Cohort, failed: readonly { path: string; code: string; message: string }[] = []) {
  return {
    backups: { count: c.backups.length, from: c.backups[0]!.date, to: c.backups.at(-1)!.date },
    failed,
    students: c.students.map((s) => ({
      id: s.id,
      username: s.username,
      name: s.name,
      firstLost: s.firstLost.date,
      lastGood: s.lastGood.date,
      accountDeleted: s.accountDeleted?.date ?? null,
      lost: s.lost.map((l) => ({
        taskId: l.taskId,
        task: l.task,
        lostOn: l.lostOn.date,
        lastGood: l.lastGood.date,
        lengthBefore: l.lengthBefore,
        lengthAfter: l.lengthAfter,
        taskDeleted: l.taskDeleted?.date ?? null,
        writtenAgain: l.writtenAgain,
      })),
      retyped: s.retyped.map((r) => ({ taskId: r.taskId, task: r.task, lostOn: r.lostOn.date, lengthBefore: r.lengthBefore, lengthNow: r.lengthNow })),
    })),
  };
}
