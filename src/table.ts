/**
 * A plain text table: the one renderer for every table the tool prints
 * (users, history, merge and export-all summaries). Columns are aligned by
 * display width, so a CJK name or an emoji (two columns each) or a combining
 * accent (none) keeps them straight; widths come from string-width (Unicode's
 * East Asian Width and emoji data), not from String.length.
 *
 * string-width is loaded when a table is first drawn: building its emoji
 * patterns takes about 30 ms, a twentieth of an export that prints no table.
 */
import { visible } from './terminal.js';

type Width = (s: string) => number;
let stringWidth: Width | undefined;

/** A measure of the columns a string takes in a terminal. */
export async function displayWidths(): Promise<Width> {
  stringWidth ??= (await import('string-width')).default;
  return stringWidth;
}

/** Columns two spaces apart, the last column not padded. Cells hold strings from backups: their control characters are made visible (terminal.ts). */
export async function table(head: readonly string[], cells: readonly (readonly string[])[]): Promise<string> {
  const width = await displayWidths();
  const rows = cells.map((r) => r.map(visible));
  const widths = head.map((h, k) => Math.max(width(h), ...rows.map((r) => width(r[k] ?? ''))));
  const line = (r: readonly string[]) =>
    r
      .map((c, k) => (k === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[k]! - width(c)))))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
