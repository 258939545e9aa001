/**
 * Restoring every student who lost texts at once (`scan --restore DIR`): for each, the upload
 * that `history` suggests for them (merge --auto against the newest backup), and one summary
 * that says, per file, whom it is for, what it restores and what it replaces, with the warnings
 * a single merge gives. A student whose account is gone, or who wrote every lost text again
 * since, gets no file: the summary says why and what to do instead.
 */
import { join } from 'node:path';
import type { History } from '../history/index.js';
import { shellWord } from '../shell.js';
import type { Snapshot } from '../session/index.js';
import { freshCurrentCommands } from './safety.js';
import { restorePlan, withoutRange, type RestorePlan } from './restore.js';
import { uploadFileName } from './steps.js';

/** One student the scan found, with what history needs. */
export interface AffectedStudent {
  h: History;
  /** Their snapshots, oldest first (the newest is the current data). */
  snapshots: readonly Snapshot[];
  /** Their real name in the newest backup that has them, when known. */
  name?: string | null;
  /** Tasks whose texts a SQL_ASCII backup held bytes of that were not UTF-8: no upload (it would be wrong). */
  notUtf8?: readonly string[];
}

/** One upload to write: `file` (a name in the folder) holds `plan.upload`. */
interface StudentUpload {
  student: AffectedStudent;
  file: string;
  plan: RestorePlan;
}

interface NotRestored {
  student: AffectedStudent;
  /** Why there is no file, and what to do instead: lines. */
  why: string[];
}

interface RestoreAll {
  uploads: StudentUpload[];
  notRestored: NotRestored[];
}

/**
 * The uploads for every affected student. `backups` and `options` are the command's (as for
 * history's suggestion), used in the commands the summary prints; `folder`, where the uploads go,
 * is where the commands it prints write theirs.
 */
export function restoreAll(students: readonly AffectedStudent[], backups: readonly string[], options: readonly string[] = [], folder = '.'): RestoreAll {
  const uploads: StudentUpload[] = [];
  const notRestored: NotRestored[] = [];
  const taken = new Set<string>();
  for (const student of students) {
    const { h, snapshots } = student;
    if (h.user.deletedAt) {
      const last = snapshots[h.user.deletedAt.index - 1]!;
      notRestored.push({
        student,
        why: [
          `the account was deleted between ${last.date} and ${h.user.deletedAt.date}: there is no student to upload to.`,
          `Re-create the account on the race server, then upload the texts of the last backup that had it:`,
          `  ${['recover-texts', 'export', last.path, '--user', h.user.username, ...withoutRange(options), '-o', join(folder, uploadFileName(h.user.username))].map(shellWord).join(' ')}`,
        ],
      });
      continue;
    }
    if (!h.tasks.some((t) => t.status === 'lost')) continue;
    if (student.notUtf8?.length) {
      const n = student.notUtf8.length;
      notRestored.push({
        student,
        why: [
          `${student.notUtf8.join(', ')} ${n === 1 ? 'is' : 'are'} not valid UTF-8 in a SQL_ASCII backup, so the encoding is unknown and an upload would be wrong.`,
          `Name the encoding the server stored them in, and scan again: --backup-encoding LATIN1, WIN1252, ...`,
        ],
      });
      continue;
    }
    const plan = restorePlan(h, snapshots, backups, options);
    if (!plan.restored.length) {
      notRestored.push({
        student,
        // Each lost text was written again since (kept), or its task is gone (the upload's warnings say how to copy it).
        why: [...plan.kept.map((k) => k.message), ...plan.upload.warnings, ...(plan.takeKept ? ['To take the old versions anyway:', ...plan.takeKept.lines.map((l) => `  ${l}`)] : [])],
      });
      continue;
    }
    // Two usernames that make one file name (a slash and an underscore): the second gets -2.
    let file = uploadFileName(h.user.username);
    for (let n = 2; taken.has(file); n++) file = uploadFileName(h.user.username).replace(/\.json$/, `-${n}.json`);
    taken.add(file);
    uploads.push({ student, file, plan });
  }
  return { uploads, notRestored };
}

function who(s: AffectedStudent): string {
  return `${s.h.user.username}${s.name ? ` (${s.name}, user id ${s.h.user.id})` : ` (user id ${s.h.user.id})`}`;
}

/** The summary: DIR/README.txt, and (its file list) what the terminal shows. */
export function restoreAllSummary(r: RestoreAll): string {
  const out: string[] = [];
  const n = r.uploads.length;
  out.push(`${n} upload${n === 1 ? '' : 's'}, one per student who lost texts, made by recover-texts scan --restore.`);
  const current = r.uploads[0]?.plan.current;
  if (current) {
    out.push('');
    out.push(`Each holds every text its student should end up with: their texts in the newest backup`);
    out.push(`(${current.label}, ${current.snapshot.time ?? 'time unknown'}, ${current.snapshot.source}), with the lost ones put back.`);
    out.push(`Upload each on the race server's "Upload texts as JSON" admin page, for the student it names.`);
    out.push('Each upload DELETES all of that student\'s texts on the server first, then inserts the file\'s:');
    out.push('anything a student wrote after that backup is lost by their upload. For a backup taken just now:');
    for (const c of freshCurrentCommands()) out.push(`  ${c.where}: ${c.command}`);
    out.push('then run the scan again with it among the backups.');
  }
  for (const u of r.uploads) {
    const p = u.plan;
    out.push('');
    out.push(`${u.file}: for ${who(u.student)}, ${p.upload.elements.length} text${p.upload.elements.length === 1 ? '' : 's'}`);
    out.push(`  restores: ${p.restored.join(', ')}`);
    if (p.replaced.length) {
      const width = Math.max(...p.replaced.map((x) => x.task.length));
      out.push('  replaces:');
      for (const x of p.replaced) out.push(`    ${x.task.padEnd(width)}  ${x.summary}`);
    } else {
      out.push('  replaces no current text: it only adds texts that are missing now');
    }
    for (const k of p.kept) out.push(`  keeps: ${k.message}`);
    for (const w of p.upload.warnings) out.push(`  warning: ${w}`);
  }
  if (r.notRestored.length) {
    out.push('');
    out.push('No file for:');
    for (const x of r.notRestored) {
      out.push(`  ${who(x.student)}:`);
      for (const line of x.why) out.push(`    ${line}`);
    }
  }
  return out.join('\n') + '\n';
}
