/**
 * The cohort report (`scan --html`): one page for everyone who lost texts. At the top, who and
 * when (the terminal's table, each student a link); then per student a small timeline (the
 * history report's overview grid, runs of unchanged backups folded) and the same detail the
 * history report shows for each lost task: its chart, the version to restore from, the change.
 * Each student's history is built, rendered and dropped one at a time (`historyOf`).
 */
import { cohortNotes, SHARP_SHRINK_TEXT, type Cohort, type CohortStudent, type History } from '../history/index.js';
import { DATE_RULE } from '../detect/index.js';
import { esc } from './escape.js';
import { htmlPage, overview, taskSection, type ReportRestore } from './report.js';

export interface CohortReportOptions {
  /** Backups that could not be loaded (or were skipped from a folder). */
  failed?: { path: string; message: string }[];
  timezone?: string;
}

const anchorOf = (s: CohortStudent) => `student-${s.id}`;

/** A student's part of the page: their history, how to restore them, and the tasks whose texts were not UTF-8 (shown with U+FFFD). */
interface StudentPart {
  h: History;
  restore?: ReportRestore;
  notUtf8?: readonly string[];
}

export function renderCohortReport(c: Cohort, historyOf: (s: CohortStudent) => StudentPart, opts: CohortReportOptions = {}): string {
  const first = c.backups[0]!.date;
  const last = c.backups.at(-1)!.date;
  const n = c.students.length;
  const title = `Who lost texts: ${n} student${n === 1 ? '' : 's'} in ${c.backups.length} backups, ${first} to ${last}`;
  const rows = c.students.map(
    (s) =>
      `<tr><th><a href="#${anchorOf(s)}">${esc(s.username)}</a></th><td>${esc(s.name ?? '')}</td><td class="n">${s.lost.length}</td>` +
      `<td>${esc(s.firstLost.date)}</td><td>${esc(s.lastGood.date)}</td><td>${esc(cohortNotes(s).join('; '))}</td></tr>`,
  );
  const body = [
    `<header>`,
    `<h1>Who lost texts</h1>`,
    `<p class="sub">${c.backups.length} backup${c.backups.length === 1 ? '' : 's'} from ${esc(first)} to ${esc(last)}${opts.timezone ? ` · texts’ times in ${esc(opts.timezone)}` : ''}</p>`,
    n
      ? `<div class="callout lost"><b>${n} student${n === 1 ? '' : 's'}</b> lost texts (deleted, or ${esc(SHARP_SHRINK_TEXT)}, and left that way), by the date of the first loss. Each name leads to that student's timeline and lost texts.</div>`
      : `<div class="callout ok">No losses: no student's text was deleted or shrunk sharply and left that way.</div>`,
    ...(opts.failed?.length
      ? [`<div class="callout warn"><b>Skipped ${opts.failed.length} backup${opts.failed.length === 1 ? '' : 's'}</b> that could not be loaded:<ul>${opts.failed.map((f) => `<li>${esc(f.message)}</li>`).join('')}</ul></div>`]
      : []),
    `</header>`,
    ...(n
      ? [`<section class="overview"><h2>Students</h2><table class="cohort"><thead><tr><th>student</th><th>name</th><th>texts lost</th><th>first lost</th><th>last good</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`]
      : []),
    ...c.students.map((s) => studentSection(s, historyOf(s))),
    `<footer>Made by recover-texts scan. Lengths are in characters. Each backup’s date comes from the backup itself: ${esc(DATE_RULE)}. ` +
      `For one student’s whole history: recover-texts history --user NAME with the same backups.</footer>`,
  ];
  return htmlPage(title, body);
}

function studentSection(s: CohortStudent, { h, restore, notUtf8 = [] }: StudentPart): string {
  const anchor = `${anchorOf(s)}-`;
  const notes = cohortNotes(s);
  const lost = h.tasks.filter((t) => t.status === 'lost');
  return [
    `<section class="student" id="${anchorOf(s)}">`,
    `<h2><span class="user">${esc(s.username)}</span>${s.name ? ` <span class="title">${esc(s.name)}</span>` : ''}</h2>`,
    `<p class="sub">user id ${s.id} · ${s.lost.length} text${s.lost.length === 1 ? '' : 's'} lost · first lost ${esc(s.firstLost.date)} · last good ${esc(s.lastGood.date)}${notes.length ? ` · ${esc(notes.join('; '))}` : ''}</p>`,
    ...(notUtf8.length
      ? [
          `<div class="callout warn">${esc(notUtf8.join(', ').replace(/^t/, 'T'))} ${notUtf8.length === 1 ? 'is' : 'are'} not valid UTF-8 in a SQL_ASCII backup: ` +
            `the bytes that are not show as \uFFFD here, and no upload is made for this student. Scan again with --backup-encoding naming the server's encoding (LATIN1, WIN1252, ...).</div>`,
        ]
      : []),
    overview(h, false, anchor, (t) => t.status === 'lost'),
    ...lost.map((t) => taskSection(h, t, restore, anchor)),
    `</section>`,
  ].join('\n');
}
