/**
 * A task's text length over the dates, as a small inline SVG: one point per
 * backup (evenly spaced: backups are nightly, and an archive's time of day
 * must not bend the line), coloured by what happened, the line broken where
 * there was no text, and a ring on the version to restore.
 */
import type { Change, History, TaskHistory } from '../history/index.js';
import { esc } from './escape.js';

export const STATE_COLOURS: Record<Exclude<Change, 'none'>, string> = {
  new: '#2b8a3e',
  changed: '#1c7ed6',
  unchanged: '#868e96',
  shrunk: '#f08c00',
  gone: '#e03131',
};

const W = 340;
const H = 140;
const PAD = { left: 44, right: 14, top: 24, bottom: 28 };
/** Room for one date label (MM-DD at 10.5px) and a gap. */
const LABEL_WIDTH = 40;

function sameYear(dates: readonly string[]): boolean {
  return dates.every((d) => d.slice(0, 4) === dates[0]!.slice(0, 4));
}

/** A date for an axis or a column: MM-DD when every date is in one year (the year is shown once), else YYYY-MM-DD. */
export function dateLabel(dates: readonly string[], k: number): string {
  return sameYear(dates) ? dates[k]!.slice(5, 10) : dates[k]!.slice(0, 10);
}

export function chartSvg(h: History, t: TaskHistory): string {
  const n = h.dates.length;
  const max = Math.max(1, ...t.cells.map((c) => c.version?.length ?? 0));
  const x = (k: number) => PAD.left + (n === 1 ? (W - PAD.left - PAD.right) / 2 : (k * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (len: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - len / max);
  const f = (v: number) => v.toFixed(1);

  // The line: runs of dates with text; a gone text drops to zero, then the line breaks.
  const runs: string[] = [];
  let run: string[] = [];
  for (const c of t.cells) {
    const k = c.backup.index;
    if (c.version) run.push(`${f(x(k))},${f(y(c.version.length))}`);
    else if (c.state === 'gone') {
      run.push(`${f(x(k))},${f(y(0))}`);
      runs.push(run.join(' '));
      run = [];
    } else if (run.length) {
      runs.push(run.join(' '));
      run = [];
    }
  }
  if (run.length) runs.push(run.join(' '));

  const points = t.cells
    .map((c) => {
      if (c.state === 'none') return '';
      const k = c.backup.index;
      const len = c.version?.length ?? 0;
      const colour = STATE_COLOURS[c.state];
      const label = esc(`${c.backup.date}: ${c.state === 'gone' ? 'deleted' : `${len} chars, ${c.state}`}`);
      const cx = f(x(k));
      const cy = f(y(len));
      const mark =
        c.state === 'gone'
          ? `<path d="M${f(x(k) - 4)},${f(y(0) - 4)}l8,8m0,-8l-8,8" stroke="${colour}" stroke-width="2.2"/>`
          : `<circle cx="${cx}" cy="${cy}" r="${c.state === 'shrunk' ? 4.5 : 3.5}" fill="${colour}"/>`;
      return `<g><title>${label}</title>${mark}</g>`;
    })
    .join('');

  const ring =
    t.restoreFrom !== null
      ? `<circle cx="${f(x(t.restoreFrom.backup.index))}" cy="${f(y(t.restoreFrom.version.length))}" r="8" fill="none" stroke="${STATE_COLOURS.new}" stroke-width="2"/>` +
        `<text x="${f(x(t.restoreFrom.backup.index))}" y="${f(y(t.restoreFrom.version.length) - 12)}" text-anchor="middle" class="lbl restore">restore</text>`
      : '';
  const lost = t.lostAt !== null && t.status === 'lost' ? `<line x1="${f(x(t.lostAt.backup.index))}" x2="${f(x(t.lostAt.backup.index))}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="${STATE_COLOURS.gone}" stroke-dasharray="3 3"/>` : '';
  const grid = [0, 0.5, 1]
    .map((q) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(y(max * q))}" y2="${f(y(max * q))}" class="grid"/><text x="${PAD.left - 6}" y="${f(y(max * q) + 4)}" text-anchor="end" class="lbl">${Math.round(max * q)}</text>`)
    .join('');
  // Every date when they fit (a label is about LABEL_WIDTH wide), else every few and always the last.
  const step = Math.max(1, Math.ceil((n * LABEL_WIDTH) / (W - PAD.left - PAD.right + LABEL_WIDTH)));
  const shown = h.dates.map((_, k) => k).filter((k) => k % step === 0 && (k === n - 1 || n - 1 - k >= step));
  if (shown.at(-1) !== n - 1) shown.push(n - 1);
  const dates = h.dates.map((d) => d.date);
  const ticks = shown
    .map((k) => `<line x1="${f(x(k))}" x2="${f(x(k))}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 3}" stroke="#adb5bd"/>`)
    .join('');
  const dateLabels =
    shown
      .map((k) => {
        const anchor = n === 1 ? 'middle' : k === 0 ? 'start' : k === n - 1 ? 'end' : 'middle';
        return `<text x="${f(x(k))}" y="${H - 12}" text-anchor="${anchor}" class="lbl">${esc(dateLabel(dates, k))}</text>`;
      })
      .join('') + (sameYear(dates) ? `<text x="${PAD.left - 6}" y="${H - 12}" text-anchor="end" class="lbl">${esc(dates[0]!.slice(0, 4))}</text>` : '');

  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`length of ${t.name} over ${n} backups`)}">
${grid}${ticks}${lost}${runs.map((r) => `<polyline points="${r}" fill="none" stroke="#adb5bd" stroke-width="1.6"/>`).join('')}${points}${ring}${dateLabels}
</svg>`;
}
