/**
 * What the admin must know before uploading a merge: the race server's upload
 * DELETES all of the student's texts and inserts the file's (race-server.md),
 * so every current text the file replaces, and everything written after the
 * --current snapshot, is gone from the live server once it is uploaded.
 * Pure: the same facts feed the terminal summary and the HTML report.
 */
import { diffLines } from 'diff';
import { DATE_SOURCE_NOTE, type BackupDate } from '../detect/index.js';
import { textLength } from '../history/index.js';
import type { CurrentData, MergePlan } from './plan.js';

/** A current text the upload replaces with an older version. */
export interface Replacement {
  task: string;
  /** The current text's length and when it was last edited (created_at when never edited). */
  currentChars: number;
  currentEditedAt: string | null;
  /** The version put in its place, and the backup date it comes from. */
  takenChars: number;
  takenFrom: string;
  /** Lines only in the restored version, lines only in the current one. */
  linesAdded: number;
  linesRemoved: number;
  /** One line: "20 chars (last edited ...) -> 746 chars of 2026-03-10: 14 lines added, 1 removed". */
  summary: string;
}

/** When the --current data was taken, and how that is known. */
export interface CurrentSnapshot {
  /** YYYY-MM-DD, or YYYY-MM-DD HH:MM; null when unknown. */
  time: string | null;
  /** How the time is known, e.g. "the date in the file name". */
  source: string;
}

/** Every current text the plan replaces, in the plan's order. */
export function replacements(plan: MergePlan): Replacement[] {
  const out: Replacement[] = [];
  for (const r of plan.rows) {
    if (r.from === 'current' || r.replacedText === undefined) continue;
    const taken = r.takenText ?? '';
    let linesAdded = 0;
    let linesRemoved = 0;
    for (const part of diffLines(r.replacedText, taken)) {
      if (part.added) linesAdded += part.count ?? 0;
      if (part.removed) linesRemoved += part.count ?? 0;
    }
    const currentChars = textLength(r.replacedText);
    const edited = r.replacedEditedAt ? `, last edited ${r.replacedEditedAt}` : '';
    const change = [linesAdded && `${linesAdded} line${linesAdded === 1 ? '' : 's'} added`, linesRemoved && `${linesRemoved} removed`].filter(Boolean).join(', ') || 'same lines';
    out.push({
      task: r.task,
      currentChars,
      currentEditedAt: r.replacedEditedAt ?? null,
      takenChars: r.chars,
      takenFrom: r.from,
      linesAdded,
      linesRemoved,
      summary: `now ${currentChars} chars${edited}; replaced by the ${r.chars}-char version of ${r.from} (${change})`,
    });
  }
  return out;
}

/** The --current snapshot's time: a backup's date, or the live JSON file's modification time. */
export function snapshotOf(current: Pick<CurrentData, 'kind' | 'date' | 'dateSource'>): CurrentSnapshot {
  if (current.kind === 'json') return { time: current.date, source: "the JSON file's modification time (when it was downloaded, if it was not copied since)" };
  const source = current.dateSource as BackupDate['source'] | undefined;
  return { time: current.date, source: (source && DATE_SOURCE_NOTE[source]) ?? 'the backup' };
}

/**
 * How to take a current backup now, for the two setups the race server's docs
 * describe. Docker: the docs' cron runs `docker exec -t server-db-1 pg_dump -U
 * buggy buggy_race | gzip`; here without -t (a terminal would turn LF into
 * CRLF, which corrupts a binary archive) and as a custom archive, whose header
 * records the dump time to the minute, where a nightly .sql.gz has only the
 * date in its name. Heroku: capture a backup, then download it (latest.dump).
 */
export function freshCurrentCommands(): { where: string; command: string }[] {
  return [
    { where: "Docker (the docs' setup; container server-db-1)", command: 'docker exec server-db-1 pg_dump -U buggy -Fc buggy_race > buggy_race_now.dump' },
    { where: 'Heroku', command: 'heroku pg:backups:capture --app YOUR_APP && heroku pg:backups:download --app YOUR_APP' },
  ];
}

/** The warning printed before the summary and shown in the report's banner: each line of it. */
export function uploadWarning(plan: MergePlan, current: Pick<CurrentData, 'kind' | 'date' | 'dateSource' | 'label'>, replaced: readonly Replacement[]): string[] {
  const snap = snapshotOf(current);
  const n = plan.elements.length;
  const lines = [
    `Uploading this file DELETES all of ${plan.username}'s texts on the server, then inserts these ${n}.`,
    `--current ${current.label} is a snapshot of ${snap.time ?? 'an unknown time'} (${snap.source}): anything ${plan.username} wrote after it is lost by the upload.`,
  ];
  if (replaced.length) {
    lines.push(`It replaces ${replaced.length} current text${replaced.length === 1 ? '' : 's'}:`);
    const width = Math.max(...replaced.map((r) => r.task.length));
    for (const r of replaced) lines.push(`  ${r.task.padEnd(width)}  ${r.summary}`);
  } else {
    lines.push('It replaces no current text: it only adds texts that are missing now.');
  }
  lines.push('For a current snapshot taken just before uploading:');
  for (const c of freshCurrentCommands()) lines.push(`  ${c.where}: ${c.command}`);
  lines.push('then run this merge again with that file as --current.');
  return lines;
}
