/** Choosing, per task, the current text or a backup's version, and the resulting upload. */
import { basename } from 'node:path';
import { RecoverError } from '../errors.js';
import { DUPLICATE_SEPARATOR, hasVersion, isSharpShrink, textLength, type History, type TaskHistory, type VersionCell } from '../history/index.js';
import type { SnapshotTask } from '../session/index.js';
import { taskOrder, toServerText, type ServerText } from '../query/index.js';

import { checkUpload } from './check.js';
import { isS3Url } from '../remote/index.js';
import { shellWord } from '../shell.js';

/** One text the student has now. */
export interface CurrentText {
  /** From a backup: the task's id. From the live JSON: null (there are no ids). */
  taskId: number | null;
  textId: number | null;
  element: ServerText;
}

/** The student's texts as they are now: a newer backup, or the live server's JSON download. */
export interface CurrentData {
  kind: 'backup' | 'json';
  /** The file it came from. */
  label: string;
  /** For a backup, its date; for the live JSON, the file's modification time (YYYY-MM-DD HH:MM, UTC). */
  date: string | null;
  /** Where that date comes from (BackupDate.source, or 'file modification time'). */
  dateSource?: string;
  username: string;
  texts: CurrentText[];
  /** A backup: all its tasks. The live JSON: null (only the names of tasks with texts are known). */
  tasks: SnapshotTask[] | null;
}

/** What to do with a task: take the version of this cell (the task on one backup's date), or keep the current text. */
export type Choice = { at: VersionCell; why: 'take' | 'auto' } | { at: 'current'; why: 'take' };

export interface TakeSpec {
  task: string;
  /** A date (or its start: 2026-03-12), a backup's file name, or `current`. */
  at: string;
}

/** Parse `--take TASK@DATE`. */
export function parseTake(spec: string): TakeSpec {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) {
    throw new RecoverError('USAGE_BAD_TAKE', `--take ${JSON.stringify(spec)} is not TASK@DATE`, {
      hint: 'e.g. --take 3-REPORT@2026-03-12, or --take 3-REPORT@current to keep the current text',
    });
  }
  return { task: spec.slice(0, at).trim(), at: spec.slice(at + 1).trim() };
}

/** The history's task a --take names: by any name it had, exactly, then ignoring case. */
function findTask(h: History, name: string): TaskHistory {
  const names = (t: TaskHistory) => new Set([t.name, ...t.cells.map((c) => c.taskName).filter((n): n is string => n !== null)]);
  for (const same of [(a: string) => a === name, (a: string) => a.toUpperCase() === name.toUpperCase()]) {
    const found = h.tasks.filter((t) => [...names(t)].some(same));
    // A name reused after a rename: the task that has it now wins.
    const now = found.filter((t) => same(t.name));
    if (found.length === 1 || now.length === 1) return (now.length === 1 ? now[0] : found[0])!;
    if (found.length > 1) {
      throw new RecoverError('USAGE_TAKE_AMBIGUOUS', `--take ${name}: several tasks had that name (${found.map((t) => `${t.name}, id ${t.taskId}`).join('; ')})`, {
        hint: 'use the name the task has now',
      });
    }
  }
  throw new RecoverError('USAGE_TAKE_UNKNOWN_TASK', `--take ${name}: the student has no text for a task of that name in these backups`, {
    hint: `the tasks with texts are ${h.tasks.map((t) => t.name).join(', ')}`,
  });
}

/** The date a --take names: `current`, a date or its start, or a backup's file name. */
function findDate(h: History, at: string, task: TaskHistory): VersionCell | 'current' {
  if (at === 'current') return 'current';
  const matches = h.dates.map((d) => ({ d })).filter(({ d }) => d.date === at || d.date.startsWith(at) || basename(d.path) === at);
  if (matches.length !== 1) {
    throw new RecoverError(
      matches.length ? 'USAGE_TAKE_AMBIGUOUS' : 'USAGE_TAKE_UNKNOWN_DATE',
      matches.length
        ? `--take ${task.name}@${at}: ${at} matches several backups (${matches.map(({ d }) => basename(d.path)).join(', ')})`
        : `--take ${task.name}@${at}: no backup of that date`,
      { hint: `the backups' dates are ${h.dates.map((d) => d.date).join(', ')}; a backup's file name works too` },
    );
  }
  const cell = task.cells[matches[0]!.d.index]!;
  if (!hasVersion(cell)) {
    const have = task.cells.filter(hasVersion).map((c) => c.backup.date);
    throw new RecoverError('USAGE_TAKE_NO_TEXT', `--take ${task.name}@${at}: the student has no text for ${task.name} in the backup of ${cell.backup.date}`, {
      hint: `it has one on ${have.join(', ')}`,
    });
  }
  return cell;
}

/**
 * The choices: with `auto`, every task still lost (history status 'lost')
 * takes its restoreFrom version, unless the current text is no longer
 * sharply shorter than it (rewritten since), or the student has written
 * something else there since the loss. That text is the student's newest
 * work and the upload would delete it, so --auto keeps it and says so with
 * the --take that restores the old version instead (README "Restoring only
 * what was lost"). Each --take overrides.
 */
export function resolveChoices(
  h: History,
  current: CurrentData,
  takes: readonly TakeSpec[],
  auto: boolean,
): { choices: Map<number, Choice>; notes: string[]; warnings: string[]; kept: KeptText[] } {
  const choices = new Map<number, Choice>();
  const notes: { taskId: number; note: string }[] = [];
  const kept: KeptText[] = [];
  if (auto) {
    for (const t of h.tasks) {
      if (t.status !== 'lost' || t.restoreFrom === null) continue;
      const best = t.restoreFrom.version;
      const bestDate = t.restoreFrom.backup.date;
      const take = `${t.name}@${bestDate}`;
      const now = currentTextsFor(current, t);
      const nowText = now.length ? now.map((x) => x.element.text).join('') : null;
      const nowLength = nowText === null ? null : textLength(nowText);
      if (nowLength !== null && !isSharpShrink(best.length, nowLength)) {
        notes.push({ taskId: t.taskId, note: `${t.name}: rewritten in ${current.label} (${nowLength} chars) since it was lost; kept (take it with --take ${shellWord(take)})` });
        continue;
      }
      // Written again since the loss (but still short): the student's newest work, which the upload would delete.
      const atLoss = t.lostAt!.version?.texts.map((x) => x.text).join('') ?? null;
      if (nowText !== null && nowText !== atLoss) {
        const edited = now.map((x) => x.element.modified_at ?? x.element.created_at).filter(Boolean).sort().at(-1);
        kept.push({
          taskId: t.taskId,
          task: t.name,
          take,
          message:
            `${t.name}: NOT restored: the student wrote a new text after the loss (${nowLength} chars${edited ? `, last edited ${edited}` : ''}), ` +
            `kept rather than overwritten by the ${best.length}-char version of ${bestDate}; to restore that one instead: --take ${shellWord(take)}`,
        });
        continue;
      }
      choices.set(t.taskId, { at: t.restoreFrom, why: 'auto' });
    }
  }
  for (const spec of takes) {
    const task = findTask(h, spec.task);
    const at = findDate(h, spec.at, task);
    choices.set(task.taskId, { at, why: 'take' });
  }
  // A task the admin chose with --take is theirs: --auto's word about it no longer holds.
  const free = <T extends { taskId: number }>(xs: T[]) => xs.filter((x) => !choices.has(x.taskId));
  const left = free(kept);
  return { choices, notes: free(notes).map((n) => n.note), warnings: left.map((k) => k.message), kept: left };
}

/** A lost text --auto leaves as it is, because the student wrote it again after the loss. */
export interface KeptText {
  taskId: number;
  task: string;
  /** TASK@DATE of the version --auto would have restored, for --take. */
  take: string;
  message: string;
}

interface MergeRow {
  task: string;
  /** `current`, or the date the text was taken from. */
  from: string;
  chars: number;
  /** The current text's length, when there is one and it is replaced. */
  replaced: number | null;
  /** The current text that is replaced (several joined), and when it was last edited. */
  replacedText?: string;
  replacedEditedAt?: string | null;
  /** A taken row: the version put in (several texts joined). */
  takenText?: string;
}

export interface MergePlan {
  username: string;
  elements: ServerText[];
  rows: MergeRow[];
  warnings: string[];
  notes: string[];
}

/** The command that copies a student's texts out of one backup, read as the run read it (`reading`: see passedOn). */
function exportCommand(path: string, username: string, reading: readonly string[]): string {
  // The store's endpoint only for an s3:// backup: a file (or a URL) needs none.
  const endpoint = reading.indexOf('--endpoint-url');
  const options = endpoint >= 0 && !isS3Url(path) ? reading.filter((_, k) => k !== endpoint && k !== endpoint + 1) : reading;
  return ['recover-texts', 'export', path, '--user', username, ...options, '--format', 'files', '--out', 'DIR'].map(shellWord).join(' ');
}

/**
 * The upload JSON: the current texts, with each chosen task's text replaced by
 * the chosen version, named as the current data names the task (matched by id
 * when the current data is a backup, by name when it is the live JSON).
 * `newestTasks`: the newest backup's tasks, for the live JSON's names; `reading`: the options the
 * commands it prints repeat to read a backup as the run did (cli's passedOn, without a date range).
 */
export function planMerge(h: History, current: CurrentData, choices: ReadonlyMap<number, Choice>, newestTasks: readonly SnapshotTask[], reading: readonly string[] = []): MergePlan {
  const warnings: string[] = [];
  const notes: string[] = [];
  const username = current.username;
  const known = current.kind === 'backup' ? current.tasks! : newestTasks;
  const byId = new Map(known.map((t) => [t.id, t]));

  // The current texts, each with the task it belongs to (when known) and the name to write.
  const kept: { c: CurrentText; task: SnapshotTask | null; name: string }[] = [];
  for (const c of current.texts) {
    const task = c.taskId !== null ? byId.get(c.taskId) : matchByName(known, c.element.task_name);
    let name = c.element.task_name;
    if (current.kind === 'backup') {
      if (!task) {
        // Only a damaged backup has a text whose task row is missing; the server could not match it.
        warnings.push(`${name}: a current text whose task (id ${c.taskId}) is missing from ${current.label}; left out`);
        continue;
      }
      name = task.storedName;
    } else if (task && task.storedName !== name) {
      notes.push(`${name}: written as ${task.storedName}, as the newest backup stores it (the server's download upper-cases names, but its upload compares them exactly)`);
      name = task.storedName;
    } else if (!task) {
      notes.push(`${name}: not in the newest backup's tasks; kept as the current JSON names it`);
    }
    kept.push({ c, task: task ?? null, name });
  }

  const taken: { element: ServerText; task: SnapshotTask; textId: number; row: MergeRow | null }[] = [];
  const replacedTasks = new Set<number>();
  for (const t of h.tasks) {
    const choice = choices.get(t.taskId);
    if (!choice || choice.at === 'current') continue;
    const version = choice.at.version;
    const date = choice.at.backup.date;
    const target = byId.get(t.taskId);
    if (!target) {
      warnings.push(
        `${t.name} (task id ${t.taskId}): no such task in ${current.kind === 'backup' ? current.label : 'the newest backup'}` +
          `${t.deletedAt !== null ? ` (deleted on ${t.deletedAt.date})` : ''}, so its text of ${date} (${version.length} chars) cannot be uploaded and is left out;` +
          ` copy it by hand: ${exportCommand(choice.at.backup.path, h.user.username, reading)}`,
      );
      continue;
    }
    if (current.kind === 'json' && !kept.some((k) => k.task?.id === t.taskId)) {
      notes.push(`${target.storedName}: no text in the current JSON; named as the newest backup stores the task`);
    }
    replacedTasks.add(t.taskId);
    const now = kept.filter((k) => k.task?.id === t.taskId);
    const nowText = now.length ? now.map((k) => k.c.element.text).join(DUPLICATE_SEPARATOR) : null;
    const row: MergeRow = { task: target.storedName, from: date, chars: version.length, takenText: version.text, replaced: nowText === null ? null : textLength(now.map((k) => k.c.element.text).join('')) };
    if (nowText !== null) {
      row.replacedText = nowText;
      row.replacedEditedAt = now.map((k) => k.c.element.modified_at ?? k.c.element.created_at).filter((x): x is string => !!x).sort().at(-1) ?? null;
    }
    for (const [i, x] of version.texts.entries()) {
      taken.push({
        task: target,
        textId: x.textId,
        row: i === 0 ? row : null,
        element: { task_name: target.storedName, username, created_at: x.created_at, modified_at: x.modified_at, is_enabled: target.isEnabled, text: x.text },
      });
    }
  }

  const out: { element: ServerText; phase: number; sort: number; textId: number; row: MergeRow | null }[] = [];
  for (const k of kept) {
    if (k.task && replacedTasks.has(k.task.id)) continue;
    const row: MergeRow = { task: k.name, from: 'current', chars: textLength(k.c.element.text), replaced: null };
    out.push({ element: { ...toServerText(k.c.element), task_name: k.name, username }, ...orderOf(k.task, k.name), textId: k.c.textId ?? 0, row });
  }
  for (const t of taken) out.push({ element: t.element, ...orderOf(t.task, t.task.storedName), textId: t.textId, row: t.row });
  // The server's order (phase, sort_position), then name and text id.
  out.sort((a, b) => taskOrder({ phase: a.phase, sortPosition: a.sort, name: a.element.task_name, id: a.textId }, { phase: b.phase, sortPosition: b.sort, name: b.element.task_name, id: b.textId }));
  const rows = out.map((o) => o.row).filter((r): r is MergeRow => r !== null);

  const elements = out.map((o) => o.element);
  const allowed = new Set([...known.map((t) => t.storedName), ...(current.kind === 'json' ? kept.map((k) => k.name) : [])]);
  const problems = checkUpload(elements, { username, taskNames: allowed });
  if (problems.length) {
    throw new RecoverError('MERGE_INVALID', `the merged JSON would not upload cleanly: ${problems[0]}`, {
      hint: 'please report this with the output of --debug',
      detail: problems.join('\n'),
    });
  }
  return { username, elements, rows, warnings, notes };
}

/** The current texts of a history task: by id from a backup, by name from the live JSON. */
function currentTextsFor(current: CurrentData, t: TaskHistory): CurrentText[] {
  if (current.kind === 'backup') return current.texts.filter((c) => c.taskId === t.taskId);
  const names = new Set([t.name, ...t.cells.map((c) => c.taskName)].filter((n): n is string => !!n).map((n) => n.toUpperCase()));
  return current.texts.filter((c) => names.has(c.element.task_name.toUpperCase()));
}

/** A live-JSON name to a task: exactly, then ignoring case (the download upper-cases names). */
function matchByName(tasks: readonly SnapshotTask[], name: string): SnapshotTask | undefined {
  const exact = tasks.filter((t) => t.storedName === name);
  if (exact.length === 1) return exact[0];
  const loose = tasks.filter((t) => t.storedName.toUpperCase() === name.toUpperCase());
  return loose.length === 1 ? loose[0] : undefined;
}

function orderOf(task: SnapshotTask | null, name: string): { phase: number; sort: number } {
  if (task) return { phase: task.phase, sort: task.sortPosition };
  const phase = /^(\d+)-/.exec(name);
  return { phase: phase ? Number(phase[1]) : Number.MAX_SAFE_INTEGER, sort: Number.MAX_SAFE_INTEGER };
}
