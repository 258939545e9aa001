/** The self-contained HTML report of a student's history. */
import { basename } from 'node:path';
import { diffLines, diffWordsWithSpace, type ChangeObject } from 'diff';
import { DATE_RULE } from '../detect/index.js';
import { accountDeletedNote, dateNote, displayTitle, foldedText, isChange, SHARP_SHRINK_TEXT, shownRows, statusText, taskNotes, type Cell, type History, type TaskHistory } from '../history/index.js';
import { freshCurrentCommands, type CurrentSnapshot, type Replacement, type RestoreSteps } from '../merge/index.js';
import { chartSvg, dateLabel, STATE_COLOURS } from './chart.js';
import { esc, shown } from './escape.js';
import { shellWord } from '../shell.js';


/** What restoring the lost texts takes and does, from the merge stage. */
export interface ReportRestore {
  /** The steps: the folder, the merge command, where to upload and for whom. */
  steps: RestoreSteps;
  /** The --current the command uses, and when it was taken. */
  current: { label: string; snapshot: CurrentSnapshot };
  /** The current texts the upload replaces. */
  replaced: readonly Replacement[];
  /** Lost texts the command leaves (written again since the loss), each with why (resolveChoices' warnings). */
  kept: readonly { taskId: number; task: string; message: string }[];
  /** With kept texts: the steps whose command takes their old versions too. */
  takeKept: RestoreSteps | null;
  /** The lost texts the upload restores, by task name (not those kept, nor those of tasks deleted since). */
  restored: readonly string[];
  /** What the upload cannot carry, and how to copy it by hand (its warnings). */
  upload: { warnings: readonly string[] };
}

export interface ReportOptions {
  /** Backups that could not be loaded (or were skipped from a folder). */
  failed?: { path: string; message: string }[];
  /** How to restore the lost texts and what that replaces. */
  restore?: ReportRestore;
  /** The race server's session zone the timestamps are in. */
  timezone?: string;
  /** A column for every backup (--all-dates): no run of unchanged ones folded. */
  allDates?: boolean;
}

/** Unchanged lines shown around a change. */
const CONTEXT = 3;
/** Rows per side-by-side block; longer changes are cut, with a pointer to `export`. */
const MAX_ROWS = 400;
/** Characters of a text shown in full (the version to restore). */
const MAX_FULL_TEXT = 200_000;
/** Give up on a diff after this long (ms): huge texts with many changes. */
const DIFF_TIMEOUT_MS = 2000;

export function renderHtmlReport(h: History, opts: ReportOptions = {}): string {
  const lost = h.tasks.filter((t) => t.status === 'lost');
  const first = h.dates[0]!.date;
  const last = h.dates.at(-1)!.date;
  const title = `Task texts of ${h.user.username}: ${h.dates.length} backups, ${first} to ${last}`;
  const body = [
    `<header>`,
    `<h1>Task texts of <span class="user">${esc(h.user.username)}</span></h1>`,
    `<p class="sub">user id ${h.user.id} · ${h.dates.length} backup${h.dates.length === 1 ? '' : 's'} from ${esc(first)} to ${esc(last)}${opts.timezone ? ` · texts’ times in ${esc(opts.timezone)}` : ''}</p>`,
    ...h.user.renames.map((r) => `<p class="sub">renamed <b>${esc(r.from)}</b> → <b>${esc(r.to)}</b> on ${esc(r.at.date)}</p>`),
    ...(h.user.deletedAt ? [`<div class="callout lost">${esc(accountDeletedNote(h))}. Its texts are shown up to then; to give them back, re-create the account, then upload the texts of the last backup that had it.</div>`] : []),
    lost.length
      ? `<div class="callout lost">${lostBanner(h, lost, opts.restore)}</div>`
      : `<div class="callout ok">Nothing lost: no text was deleted or shrunk sharply (${esc(SHARP_SHRINK_TEXT)}) and left that way.</div>`,
    ...(opts.failed?.length
      ? [`<div class="callout warn"><b>Skipped ${opts.failed.length} backup${opts.failed.length === 1 ? '' : 's'}</b> that could not be loaded:<ul>${opts.failed.map((f) => `<li>${esc(f.message)}</li>`).join('')}</ul></div>`]
      : []),
    `</header>`,
    overview(h, opts.allDates),
    // Lost tasks first: they are what the admin came for.
    ...[...lost, ...h.tasks.filter((t) => t.status !== 'lost')].map((t) => taskSection(h, t, opts.restore)),
    `<footer>Made by recover-texts. Lengths are in characters. A text “shrunk sharply” when it became ${esc(SHARP_SHRINK_TEXT)}. ` +
      `Each backup’s date comes from the backup itself: ${esc(DATE_RULE)}. Text timestamps are in the race server’s session zone${opts.timezone ? ` (${esc(opts.timezone)})` : ''}.</footer>`,
  ];
  return htmlPage(title, body);
}

/** A whole page: its title and body parts, with the report's CSS and a policy that forbids scripts and any resource from elsewhere. */
export function htmlPage(title: string, body: readonly string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recover-texts">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

/**
 * The banner over lost texts: those the command restores, with its steps; apart,
 * those it keeps because the student wrote them again since the loss, with the
 * command that takes their old versions instead.
 */
function lostBanner(h: History, lost: readonly TaskHistory[], r: ReportRestore | undefined): string {
  const links = (ts: readonly TaskHistory[]) => ts.map((t) => `<a href="#task-${t.taskId}">${esc(t.name)}</a>`).join(', ');
  const kept = lost.filter((t) => r?.kept.some((k) => k.taskId === t.taskId));
  // A lost text whose task was deleted since: no upload can carry it.
  const cannot = r ? lost.filter((t) => !kept.includes(t) && !r.restored.includes(t.name)) : [];
  const restored = lost.filter((t) => !kept.includes(t) && !cannot.includes(t));
  const head = restored.length ? `<b>${restored.length} text${restored.length === 1 ? ' is' : 's are'} lost</b>: ${links(restored)}.` : '';
  if (!r) return head;
  const keptHead =
    (kept.length ? `<p class="kept-head"><b>${kept.length} lost text${kept.length === 1 ? ' was' : 's were'} written again since</b>: ${links(kept)}; kept, not restored.</p>` : '') +
    (cannot.length
      ? `<p class="kept-head"><b>${cannot.length} lost text${cannot.length === 1 ? ' belongs' : 's belong'} to a task deleted since</b>: ${links(cannot)}; the upload cannot carry ${cannot.length === 1 ? 'it' : 'them'}:</p>` +
        `<ul class="kept">${r.upload.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
      : '');
  return head + restoreBanner(r, h, restored.length, keptHead);
}

/** The banner's restore part: the steps, the snapshot and what the upload deletes, the replaced texts, a fresh current. */
function restoreBanner(r: ReportRestore, h: History, lost: number, keptHead: string): string {
  const username = h.user.username;
  const link = (name: string) => {
    const t = h.tasks.find((x) => x.name === name);
    return t ? `<a href="#task-${t.taskId}"><b>${esc(name)}</b></a>` : `<b>${esc(name)}</b>`;
  };
  const snap = r.current.snapshot;
  const fresh = freshCurrentCommands();
  const steps = (s: RestoreSteps) =>
    `<ol class="steps">${s.folder ? `<li>In the backups’ folder:<pre class="cmd">cd ${esc(shellWord(s.folder))}</pre></li>` : ''}` +
    `<li>Build the upload:<pre class="cmd">${esc(s.command)}</pre></li>` +
    `<li>Upload <code>${esc(s.outFile)}</code> on the race server’s “Upload texts as JSON” admin page for the student <b>${esc(username)}</b>.</li></ol>`;
  const kept = r.kept.length;
  return (
    (lost ? ` To restore just ${lost === 1 ? 'it' : 'those'} and keep everything else:${steps(r.steps)}` : '') +
    keptHead +
    (r.takeKept ? `<p>To take the old ${kept === 1 ? 'one' : 'ones'} instead${lost ? ', with the others' : ''}:</p>${steps(r.takeKept)}` : '') +
    `<p class="danger"><b>The upload deletes all of ${esc(username)}’s texts on the server</b> and puts the file’s in their place. ` +
    `The current texts come from <code>${esc(basename(r.current.label))}</code>, a snapshot of <b>${esc(snap.time ?? 'unknown time')}</b> (${esc(snap.source)}): ` +
    `anything ${esc(username)} wrote after it is lost by the upload.</p>` +
    (r.replaced.length
      ? `<p>It replaces ${r.replaced.length} current text${r.replaced.length === 1 ? '' : 's'}:</p><ul class="replaced">${r.replaced
          .map((x) => `<li>${link(x.task)}: ${esc(x.summary)}</li>`)
          .join('')}</ul>`
      : '<p>It replaces no current text: the lost texts are missing now, so they are only added.</p>') +
    (r.kept.length ? `<ul class="kept">${r.kept.map((k) => `<li>${esc(k.message)}</li>`).join('')}</ul>` : '') +
    `<details class="fresh"><summary>For a current snapshot taken just before uploading</summary><ul>${fresh
      .map((c) => `<li>${esc(c.where)}:<pre class="cmd">${esc(c.command)}</pre></li>`)
      .join('')}</ul>then use that file as <code>--current</code>.</details>`
  );
}

/**
 * All tasks by date: a grid of lengths coloured by what happened. A run of
 * backups where nothing changed is one narrow column (its count; the dates in
 * its title), as the terminal folds it into one row.
 */
/** `anchor`: prefix of the task sections' ids; `linked`: the tasks that have a section on the page (default: all). */
export function overview(h: History, allDates = false, anchor = '', linked: (t: TaskHistory) => boolean = () => true): string {
  // Column heads: MM-DD plus an archive's time (the year once, above), or whole dates across years.
  const dates = h.dates.map((d) => d.date);
  const columns = shownRows(h, allDates);
  const head = columns
    .map((r) => {
      if (r.kind === 'folded') return `<th class="fold" title="${esc(foldedText(h, r))}">⋯${r.count}</th>`;
      const d = h.dates[r.index]!;
      return `<th title="${esc(`${d.date} (${dateNote(d.dateSource)}): ${d.path}`)}">${esc(dateLabel(dates, r.index) + d.date.slice(10))}</th>`;
    })
    .join('');
  const rows = h.tasks.map((t) => {
    const cells = columns
      .map((r) => {
        // The run's cells are all alike (nothing changed): coloured as its first.
        const c = t.cells[r.kind === 'folded' ? r.first : r.index]!;
        if (r.kind === 'folded') return `<td class="fold s-${c.state}" title="${esc(`${t.name}: ${foldedText(h, r)}, ${describe(c)}`)}"></td>`;
        const label = c.state === 'gone' ? 'gone' : c.version ? String(c.version.length) : '';
        const mark = t.restoreFrom === c ? ' restore' : '';
        return `<td class="s-${c.state}${mark}" title="${esc(`${t.name} on ${c.backup.date}: ${describe(c)}`)}">${esc(label)}</td>`;
      })
      .join('');
    const name = linked(t) ? `<a href="#${anchor}task-${t.taskId}">${esc(t.name)}</a>` : esc(t.name);
    return `<tr><th class="task">${name}</th>${cells}<td class="status ${t.status}">${esc(statusText(t))}</td></tr>`;
  });
  const legend = (['new', 'changed', 'unchanged', 'shrunk', 'gone'] as const)
    .map((s) => `<span class="key"><i style="background:${STATE_COLOURS[s]}"></i>${s === 'shrunk' ? 'shrunk sharply' : s}</span>`)
    .join('');
  const year = dates.every((d) => d.slice(0, 4) === dates[0]!.slice(0, 4)) ? ` <span class="title">${esc(dates[0]!.slice(0, 4))}</span>` : '';
  return `<section class="overview"><h2>Overview${year}</h2><div class="scroll"><table class="grid"><thead><tr><th></th>${head}<th>status</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>
<p class="legend">${legend}<span class="key"><i class="ring"></i>restore from</span>${columns.some((r) => r.kind === 'folded') ? '<span class="key">⋯N: N backups with no change (their dates on hover; --all-dates shows each)</span>' : ''}</p></section>`;
}

export function taskSection(h: History, t: TaskHistory, r: ReportRestore | undefined, anchor = ''): string {
  const notes = taskNotes(t);
  const kept = r?.kept.find((k) => k.taskId === t.taskId);
  const restore =
    t.status === 'lost' && t.restoreFrom !== null && kept
      ? `<p class="kept-note">Written again since it was lost on ${esc(t.lostAt!.backup.date)}: kept, not restored. The longest version before the loss is of <b>${esc(t.restoreFrom.backup.date)}</b> (${t.restoreFrom.version.length} characters).</p>` +
        uploadNote(t, r!)
      : t.status === 'lost' && t.restoreFrom !== null
      ? `<p class="restore-note">Restore from <b>${esc(t.restoreFrom.backup.date)}</b>: ${t.restoreFrom.version.length} characters, the longest version before it was lost on ${esc(t.lostAt!.backup.date)}.</p>` +
        (r ? uploadNote(t, r) : '')
      : t.lastGood !== null
        ? `<p class="ok-note">Newest text: ${esc(t.lastGood.backup.date)} (${t.lastGood.version.length} characters).</p>`
        : '';
  const blocks: string[] = [];
  if (t.status === 'lost' && t.restoreFrom !== null) {
    const from = t.restoreFrom;
    const now = t.cells.at(-1)!;
    // Now on the left, the restored version on the right: what comes back is green.
    const chars = from.version.length;
    blocks.push(
      change(
        kept
          ? `Not restored: the ${from.backup.date} version (${chars} chars), next to the text written since, which is kept`
          : t.deletedAt !== null
            ? `The ${from.backup.date} version (${chars} chars), to copy by hand: its task is gone`
            : `Restoring brings back the ${from.backup.date} version (${chars} chars)`,
        now.version?.text ?? '',
        from.version.text,
        now.version ? `now (${now.backup.date})` : `now (${now.backup.date}): no text`,
        kept ? `${from.backup.date} (not restored)` : `restored (${from.backup.date})`,
        true,
        kept ? 'kept' : 'restore',
      ),
    );
    const full = from.version.text;
    // Unless the block above folds or cuts some of it, it shows the whole text already: it is shown once.
    const rows = sideBySide(now.version?.text ?? '', full);
    if (rows.length > MAX_ROWS || rows.some((x) => x.kind === 'skip')) blocks.push(
      `<details class="full"><summary>${kept ? 'The old text' : 'The text to restore'}, in full (${esc(from.backup.date)})</summary><pre class="text">${esc(shown(full.slice(0, MAX_FULL_TEXT)))}${full.length > MAX_FULL_TEXT ? `\n… cut here: see recover-texts export` : ''}</pre></details>`,
    );
  }
  // Each change, oldest first, closed: the chart and the labels tell the story. Open only a rewritten
  // task's newest change (what the student wrote since), as the restore block is a lost task's.
  // The restored text arriving as new ("nothing → date") is the restore block again, so it is left out.
  const restored = t.status === 'lost' ? t.restoreFrom?.version.text : undefined;
  const changes: { label: string; before: string; after: string; left: string; right: string; state: string }[] = [];
  for (const c of t.cells.filter(isChange)) {
    const prev = c.previous;
    if (prev === null && c.version?.text === restored) continue;
    changes.push({
      label: `${prev === null ? 'nothing' : prev.backup.date} → ${c.backup.date}: ${describe(c, prev === null ? null : prev.version.length)}`,
      before: prev === null ? '' : prev.version.text,
      after: c.version?.text ?? '',
      left: prev === null ? 'no text' : prev.backup.date,
      right: c.version ? c.backup.date : `${c.backup.date}: no text`,
      state: c.state,
    });
  }
  const open = t.status === 'rewritten' ? changes.at(-1) : undefined;
  for (const c of changes) blocks.push(change(c.label, c.before, c.after, c.left, c.right, c === open, c.state));
  return `<section class="task ${t.status}" id="${anchor}task-${t.taskId}">
<div class="head"><h2>${esc(t.name)}${displayTitle(t) ? ` <span class="title">${esc(displayTitle(t)!)}</span>` : ''}</h2><span class="badge ${t.status}">${esc(statusText(t))}</span></div>
<div class="body"><div class="side">${chartSvg(h, t)}${restore}${notes.length ? `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</div>
<div class="changes">${blocks.join('\n') || '<p class="quiet">No changes between these backups.</p>'}</div></div>
</section>`;
}

/** On a lost task's card: what the upload does to the current text, or that the command leaves it. */
function uploadNote(t: TaskHistory, r: ReportRestore): string {
  if (t.deletedAt !== null) {
    return `<p class="kept-note">The task was deleted on ${esc(t.deletedAt.date)}: no upload can bring this text back, as the server has no such task. The version below is there to copy by hand.</p>`;
  }
  const kept = r.kept.find((k) => k.taskId === t.taskId);
  if (kept) return `<p class="kept-note">${esc(kept.message)}</p>`;
  const x = r.replaced.find((k) => k.task === t.name);
  const when = `${esc(r.current.snapshot.time ?? 'unknown time')}`;
  return x
    ? `<p class="replace-note"><b>Replaces the current text</b> (snapshot of ${when}): ${esc(x.summary)}.</p>`
    : `<p class="add-note">No current text (snapshot of ${when}): the upload adds it.</p>`;
}

function describe(c: Cell, before: number | null = null): string {
  switch (c.state) {
    case 'new':
      return `new, ${c.version!.length} chars`;
    case 'changed':
      return `changed${before !== null ? `, ${before} → ${c.version!.length} chars` : `, ${c.version!.length} chars`}`;
    case 'unchanged':
      return `unchanged, ${c.version!.length} chars`;
    case 'shrunk':
      return `shrunk sharply${before !== null ? `, ${before} → ${c.version!.length} chars` : `, to ${c.version!.length} chars`}`;
    case 'gone':
      return 'deleted';
    case 'none':
      return 'no text';
  }
}

type Row = { kind: 'same' | 'del' | 'ins' | 'mod' | 'skip'; left: string | null; right: string | null; skipped?: number };

/** One change as a two-column table: old left, new right, changed lines and words highlighted. */
function change(label: string, before: string, after: string, leftHead: string, rightHead: string, open: boolean, state: string): string {
  const rows = sideBySide(before, after);
  const shownRows = rows.slice(0, MAX_ROWS);
  // Nothing before: the new text alone, the page's whole width, not beside an empty column.
  if (before === '') {
    const cut = rows.length > MAX_ROWS ? `<tr class="skip"><td>… ${rows.length - MAX_ROWS} more lines: see the full text with recover-texts export</td></tr>` : '';
    return `<details class="change c-${esc(state)}"${open ? ' open' : ''}><summary>${esc(label)}</summary>
<table class="sbs one"><thead><tr><th>${esc(leftHead)} → ${esc(rightHead)}</th></tr></thead><tbody>${shownRows
      .map((r) => `<tr class="ins"><td class="r">${esc(shown(r.right ?? ''))}</td></tr>`)
      .join('')}${cut}</tbody></table></details>`;
  }
  const html = shownRows.map(rowHtml).join('');
  const eol = (x: string) => x.replace(/\r\n/g, '\n');
  const endings = before !== after && eol(before) === eol(after) ? `<tr class="skip"><td colspan="2">only the line endings changed (${/\r\n/.test(after) ? 'now CRLF' : 'now LF'})</td></tr>` : '';
  const cut = rows.length > MAX_ROWS ? `<tr class="skip"><td colspan="2">… ${rows.length - MAX_ROWS} more rows: see the full texts with recover-texts export</td></tr>` : '';
  return `<details class="change c-${esc(state)}"${open ? ' open' : ''}><summary>${esc(label)}</summary>
<table class="sbs"><thead><tr><th>${esc(leftHead)}</th><th>${esc(rightHead)}</th></tr></thead><tbody>${endings}${html}${cut}</tbody></table></details>`;
}

function lines(s: string): string[] {
  if (s === '') return [];
  const out = s.split('\n');
  if (out.at(-1) === '') out.pop();
  return out;
}

export function sideBySide(before: string, after: string): Row[] {
  // Line endings are not shown (a CRLF is just a line break on the page), so they are not compared either.
  const parts: ChangeObject<string>[] = diffLines(before, after, { timeout: DIFF_TIMEOUT_MS, stripTrailingCr: true }) ?? [
    { value: before, removed: true, added: false, count: 0 },
    { value: after, added: true, removed: false, count: 0 },
  ];
  const rows: Row[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!p.added && !p.removed) {
      const ls = lines(p.value);
      const isFirst = i === 0;
      const isLast = i === parts.length - 1;
      const keepHead = isFirst ? 0 : CONTEXT;
      const keepTail = isLast ? 0 : CONTEXT;
      if (ls.length > keepHead + keepTail + 1) {
        ls.slice(0, keepHead).forEach((l) => rows.push({ kind: 'same', left: l, right: l }));
        rows.push({ kind: 'skip', left: null, right: null, skipped: ls.length - keepHead - keepTail });
        ls.slice(ls.length - keepTail).forEach((l) => rows.push({ kind: 'same', left: l, right: l }));
      } else {
        ls.forEach((l) => rows.push({ kind: 'same', left: l, right: l }));
      }
      continue;
    }
    if (p.removed && parts[i + 1]?.added) {
      const del = lines(p.value);
      const ins = lines(parts[i + 1]!.value);
      for (let k = 0; k < Math.max(del.length, ins.length); k++) {
        const l = del[k] ?? null;
        const r = ins[k] ?? null;
        rows.push({ kind: l !== null && r !== null ? 'mod' : l !== null ? 'del' : 'ins', left: l, right: r });
      }
      i++;
      continue;
    }
    for (const l of lines(p.value)) rows.push(p.removed ? { kind: 'del', left: l, right: null } : { kind: 'ins', left: null, right: l });
  }
  return rows;
}

function rowHtml(r: Row): string {
  if (r.kind === 'skip') return `<tr class="skip"><td colspan="2">⋯ ${r.skipped} unchanged line${r.skipped === 1 ? '' : 's'}</td></tr>`;
  if (r.kind === 'mod') {
    const words = diffWordsWithSpace(r.left!, r.right!, { timeout: DIFF_TIMEOUT_MS });
    if (words) {
      const left = words.filter((w) => !w.added).map((w) => (w.removed ? `<del>${esc(shown(w.value))}</del>` : esc(shown(w.value)))).join('');
      const right = words.filter((w) => !w.removed).map((w) => (w.added ? `<ins>${esc(shown(w.value))}</ins>` : esc(shown(w.value)))).join('');
      return `<tr class="mod"><td class="l">${left}</td><td class="r">${right}</td></tr>`;
    }
  }
  const cell = (s: string | null, side: string) => (s === null ? `<td class="${side} empty"></td>` : `<td class="${side}">${esc(shown(s))}</td>`);
  return `<tr class="${r.kind}">${cell(r.left, 'l')}${cell(r.right, 'r')}</tr>`;
}


const CSS = `
:root{--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--new:${STATE_COLOURS.new};--changed:${STATE_COLOURS.changed};--unchanged:${STATE_COLOURS.unchanged};--shrunk:${STATE_COLOURS.shrunk};--gone:${STATE_COLOURS.gone}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:24px 28px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0}
.sub{margin:2px 0;color:var(--muted)}
.user{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.callout{margin:14px 0;padding:10px 14px;border-radius:8px;border:1px solid var(--line);background:var(--bg)}
.callout.lost{border-color:#ffc9c9;background:#fff5f5}.callout.ok{border-color:#b2f2bb;background:#ebfbee}.callout.warn{border-color:#ffe066;background:#fff9db}
.callout ul{margin:6px 0 0;padding-left:20px}
pre.cmd{margin:8px 0 0;padding:8px 10px;background:#fff;border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;word-break:break-all;font-size:12.5px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.overview{margin:20px 0 8px}.overview h2{margin-bottom:8px}
.scroll{overflow-x:auto}
table.grid{border-collapse:separate;border-spacing:2px;font-variant-numeric:tabular-nums;font-size:12.5px}
.grid th{font-weight:600;color:var(--muted);padding:2px 6px;white-space:nowrap}
.grid th.task{text-align:left;color:var(--ink);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.grid td{min-width:46px;padding:3px 6px;text-align:right;border-radius:4px;color:#fff;white-space:nowrap}
.grid td.s-new{background:var(--new)}.grid td.s-changed{background:var(--changed)}.grid td.s-unchanged{background:var(--unchanged)}
.grid td.s-shrunk{background:var(--shrunk)}.grid td.s-gone{background:var(--gone)}.grid td.s-none{background:#f1f3f5}
.grid td.restore{box-shadow:inset 0 0 0 2px #fff,0 0 0 2px var(--new)}
.grid th.fold{padding:2px 1px;font-weight:400}.grid td.fold{min-width:10px;padding:3px 1px}
table.cohort{border-collapse:collapse;font-size:13.5px}.cohort th,.cohort td{padding:4px 12px 4px 0;text-align:left;white-space:nowrap}
.cohort thead th{color:var(--muted);font-weight:600}.cohort td.n{text-align:right;font-variant-numeric:tabular-nums}
section.student{margin-top:36px;padding-top:8px;border-top:2px solid #dee2e6}
.grid td.status{background:none;color:var(--ink);text-align:left;padding-left:10px}
.grid td.status.lost{color:var(--gone);font-weight:600}
.legend{color:var(--muted);font-size:12.5px}.key{margin-right:14px;white-space:nowrap}
.key i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.key i.ring{border:2px solid var(--new);border-radius:50%;background:#fff}
section.task{margin:18px 0;border:1px solid var(--line);border-radius:10px;overflow:hidden}
section.task.lost{border-color:#ffa8a8}
.task .head{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:10px 14px;background:var(--bg);border-bottom:1px solid var(--line)}
.task.lost .head{background:#fff5f5}
.task h2{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.task h2 .title{font-family:system-ui,sans-serif;font-weight:400;color:var(--muted);font-size:14px;margin-left:6px}
.badge{font-size:12px;padding:2px 8px;border-radius:999px;white-space:nowrap;background:#e9ecef}
.badge.lost{background:var(--gone);color:#fff}.badge.rewritten{background:#fff3bf}
.task .body{display:flex;gap:18px;padding:12px 14px;align-items:flex-start}
.side{flex:0 0 340px}.changes{flex:1 1 auto;min-width:0}
.steps{margin:8px 0;padding-left:22px}.steps li{margin:4px 0}
.danger{margin:8px 0;padding:6px 10px;border-left:3px solid var(--gone);background:#fff}
ul.replaced,ul.kept{margin:4px 0 8px;padding-left:20px}ul.kept{color:#9c3500}
details.fresh{margin-top:6px}details.fresh>summary{cursor:pointer}
.replace-note{margin:6px 0;padding:6px 8px;border-left:3px solid var(--gone);background:#fff5f5}
.add-note{margin:6px 0;padding:6px 8px;border-left:3px solid var(--new);background:#ebfbee}
.kept-note{margin:6px 0;padding:6px 8px;border-left:3px solid var(--shrunk);background:#fff4e6}
.restore-note{margin:6px 0;padding:6px 8px;border-left:3px solid var(--new);background:#ebfbee}
.ok-note{margin:6px 0;color:var(--muted)}
.notes{margin:6px 0;padding-left:18px;color:var(--muted)}
.quiet{color:var(--muted)}
details.change{margin:0 0 10px;border:1px solid var(--line);border-radius:8px;overflow:hidden}
details.change>summary{cursor:pointer;padding:6px 10px;background:var(--bg);font-weight:600}
details.c-shrunk>summary,details.c-gone>summary{color:var(--gone)}
details.c-restore>summary{color:#2b8a3e}details.c-kept>summary{color:#9c3500}
.kept-head{margin:8px 0 4px}
details.full{margin:0 0 10px}details.full>summary{cursor:pointer;color:var(--muted)}
table.sbs{width:100%;border-collapse:collapse;table-layout:fixed;font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.sbs th{font:600 12px system-ui,sans-serif;color:var(--muted);text-align:left;padding:4px 8px;border-bottom:1px solid var(--line)}
.sbs td{vertical-align:top;height:1.5em;padding:1px 8px;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext;border-left:1px solid var(--line)}
.sbs td.l,.sbs.one td{border-left:0}
.sbs tr.del td.l,.sbs tr.mod td.l{background:#ffebe9}.sbs tr.ins td.r,.sbs tr.mod td.r{background:#dafbe1}
.sbs td.empty{background:#f6f8fa}
.sbs del{background:#ffc1bc;text-decoration:none;border-radius:2px}.sbs ins{background:#aceebb;text-decoration:none;border-radius:2px}
.sbs tr.skip td{color:var(--muted);text-align:center;background:#f6f8fa;font-family:system-ui,sans-serif}
pre.text{max-height:360px;overflow:auto;padding:8px 10px;background:var(--bg);border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext}
svg.chart{display:block;width:340px;height:140px}
.chart .lbl{font:10.5px system-ui,sans-serif;fill:#656d76}.chart .lbl.restore{fill:${STATE_COLOURS.new};font-weight:600}.chart .grid{stroke:#eaeef2}
footer{margin-top:28px;color:var(--muted);font-size:12.5px}
@media (max-width:900px){.task .body{flex-direction:column}.side{flex-basis:auto}}
`;
