/**
 * The history as text (two tables: lengths by date and task, then one line
 * per task with its status and last good date) and as JSON for scripts.
 */
import { table } from '../table.js';
import { DATE_RULE } from '../detect/index.js';
import { foldedText, shownRows } from './collapse.js';
import { dateNote, displayTitle, SHARP_SHRINK, SHARP_SHRINK_TEXT, taskDiffs, type Cell, type History, type HistoryBackup, type TaskHistory } from './model.js';

const LABEL: Record<Cell['state'], string> = {
  new: 'new',
  changed: 'changed',
  unchanged: '',
  shrunk: 'SHRUNK',
  gone: 'GONE',
  none: '',
};

function cellText(c: Cell): string {
  if (c.state === 'gone') return 'GONE';
  if (!c.version) return '-';
  return `${c.version.length}${LABEL[c.state] ? ` ${LABEL[c.state]}` : ''}`;
}

/** What happened to the task, in a few words. */
export function statusText(t: TaskHistory): string {
  const lost = t.lostAt;
  if (lost === null) return 'ok';
  const before = lost.previous?.version.length ?? 0;
  const what = lost.state === 'gone' ? 'gone' : `${before} -> ${lost.version?.length ?? 0} chars`;
  const on = `${lost.backup.date} (${what})`;
  return t.status === 'lost' ? `LOST on ${on}` : `rewritten after a loss on ${on}`;
}

/** Renames, enabling and deletion, in a few words. */
export function taskNotes(t: TaskHistory): string[] {
  const notes = t.renames.map((r) => `renamed from ${r.from} on ${r.at.date}`);
  for (const e of t.enabledChanges) notes.push(`${e.isEnabled ? 'enabled' : 'disabled'} on ${e.at.date}`);
  if (t.deletedAt !== null) notes.push(`task deleted on ${t.deletedAt.date}: the server cannot take its text back`);
  return notes;
}

/** When the account was deleted: between the newest backup that has it and the next. */
export function accountDeletedNote(h: History): string {
  const gone = h.user.deletedAt!;
  const before = h.dates[gone.index - 1]!;
  return `the account ${h.user.username} (user id ${h.user.id}) was deleted between ${before.date} and ${gone.date}: it is in no backup from ${gone.date} on`;
}

export async function renderHistoryTable(h: History, opts: { diff?: boolean; /** Every backup a row (--all-dates): no run of unchanged ones folded. */ allDates?: boolean } = {}): Promise<string> {
  const out: string[] = [];
  const first = h.dates[0]!.date;
  const last = h.dates.at(-1)!.date;
  out.push(`${h.user.username} (user id ${h.user.id}): ${h.dates.length} backup${h.dates.length === 1 ? '' : 's'}, ${first}${h.dates.length > 1 ? ` to ${last}` : ''}`);
  for (const r of h.user.renames) out.push(`renamed ${r.from} -> ${r.to} on ${r.at.date}`);
  if (h.user.deletedAt) out.push(accountDeletedNote(h));
  out.push('');
  if (!h.tasks.length) {
    out.push('no texts in any of these backups');
    return out.join('\n') + '\n';
  }

  // Lengths (characters) by date and task: dates down, tasks across. A folded run is one line
  // across the columns, drawn in after the table is aligned (its empty cells widen nothing).
  const rows = shownRows(h, opts.allDates);
  const lines = (
    await grid(
      ['DATE', ...h.tasks.map((t) => t.name)],
      rows.map((r) => (r.kind === 'folded' ? [''] : [h.dates[r.index]!.date, ...h.tasks.map((t) => cellText(t.cells[r.index]!))])),
    )
  ).split('\n');
  rows.forEach((r, k) => {
    if (r.kind === 'folded') lines[k + 1] = `… ${foldedText(h, r)} …`;
  });
  out.push(lines.join('\n'));
  out.push(`lengths in characters; SHRUNK: ${SHARP_SHRINK_TEXT}; GONE: deleted; -: no text`);
  const folded = rows.filter((r) => r.kind === 'folded');
  if (folded.length) {
    const n = folded.reduce((sum, r) => sum + r.count, 0);
    out.push(`${n} backups with no change folded into ${folded.length} row${folded.length === 1 ? '' : 's'}; --all-dates shows every backup`);
  }
  out.push(datesLine(h));
  out.push('');

  out.push(
    await grid(
      ['TASK', 'STATUS', 'LAST GOOD', 'NOTES'],
      h.tasks.map((t) => [
        t.name,
        statusText(t),
        t.lastGood === null ? '' : `${t.lastGood.backup.date} (${t.lastGood.version.length} chars)`,
        taskNotes(t).join('; '),
      ]),
    ),
  );

  if (opts.diff) {
    for (const t of h.tasks) {
      const diffs = taskDiffs(t);
      if (!diffs.length) continue;
      out.push('', `=== ${t.name}${displayTitle(t) ? ` (${displayTitle(t)})` : ''}`);
      for (const d of diffs) out.push(d.patch.trimEnd());
    }
  }
  return out.join('\n') + '\n';
}

/** Where each date comes from, by source: "dates: the date in the file name, except 2026-03-12 23:30: ...". */
function datesLine(h: History): string {
  const bySource = new Map<string, string[]>();
  for (const d of h.dates) bySource.set(d.dateSource, [...(bySource.get(d.dateSource) ?? []), d.date]);
  const groups = [...bySource.entries()].sort((a, b) => b[1].length - a[1].length);
  const [main, ...others] = groups.map(([source, dates]) => ({ note: dateNote(source), dates }));
  return `dates: ${main!.note}${others.map((o) => `, except ${o.dates.join(', ')}: ${o.note}`).join('')}`;
}

export interface HistoryJson {
  user: { id: number; username: string; renames: { date: string; from: string; to: string }[]; /** The first backup without the account, when it was deleted. */ deletedOn: string | null };
  sharpShrink: { ratio: number; minChars: number };
  /** How every backup's date is found (detect's DATE_RULE). */
  dateRule: string;
  /** dateNote: the date's source in words, as the terminal and the report say it. */
  backups: { path: string; date: string; dateSource: string; dateNote: string }[];
  failed: { path: string; code: string; message: string }[];
  tasks: {
    taskId: number;
    name: string;
    title: string | null;
    status: TaskHistory['status'];
    lostOn: string | null;
    restoreFrom: string | null;
    lastGood: string | null;
    renames: { date: string; from: string; to: string }[];
    enabledChanges: { date: string; isEnabled: boolean }[];
    deletedOn: string | null;
    versions: {
      date: string;
      state: Cell['state'];
      length: number | null;
      taskName: string | null;
      isEnabled: boolean | null;
      createdAt: string | null;
      modifiedAt: string | null;
      /** With --diff: the unified diff from the previous version. */
      diff?: string;
    }[];
  }[];
}

export function historyJson(h: History, opts: { diff?: boolean; failed?: { path: string; code: string; message: string }[] } = {}): HistoryJson {
  const date = (at: { backup: HistoryBackup } | null) => at?.backup.date ?? null;
  const renames = (rs: { at: HistoryBackup; from: string; to: string }[]) => rs.map((r) => ({ date: r.at.date, from: r.from, to: r.to }));
  return {
    user: { id: h.user.id, username: h.user.username, renames: renames(h.user.renames), deletedOn: h.user.deletedAt?.date ?? null },
    sharpShrink: { ratio: SHARP_SHRINK.ratio, minChars: SHARP_SHRINK.minChars },
    dateRule: DATE_RULE,
    backups: h.dates.map((d) => ({ path: d.path, date: d.date, dateSource: d.dateSource, dateNote: dateNote(d.dateSource) })),
    failed: opts.failed ?? [],
    tasks: h.tasks.map((t) => {
      const diffs = opts.diff ? new Map(taskDiffs(t).map((d) => [d.to, d.patch])) : undefined;
      return {
        taskId: t.taskId,
        name: t.name,
        title: t.title,
        status: t.status,
        lostOn: date(t.lostAt),
        restoreFrom: date(t.restoreFrom),
        lastGood: date(t.lastGood),
        renames: renames(t.renames),
        enabledChanges: t.enabledChanges.map((e) => ({ date: e.at.date, isEnabled: e.isEnabled })),
        deletedOn: t.deletedAt?.date ?? null,
        versions: t.cells.map((c) => {
          const v = c.version?.texts;
          return {
            date: c.backup.date,
            state: c.state,
            length: c.version?.length ?? null,
            taskName: c.taskName,
            isEnabled: c.isEnabled,
            createdAt: v?.[0]?.created_at ?? null,
            modifiedAt: v?.map((x) => x.modified_at).filter((x): x is string => !!x).sort().at(-1) ?? null,
            ...(diffs?.has(c) ? { diff: diffs.get(c)! } : {}),
          };
        }),
      };
    }),
  };
}

const grid = async (head: string[], rows: string[][]): Promise<string> => (await table(head, rows)).trimEnd();
