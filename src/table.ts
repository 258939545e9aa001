/**
 * A plain text table: the one renderer for every table the tool prints
 * (users, history, merge and export-all summaries). Columns are aligned by
 * display width, so a CJK name or an emoji (two columns each) or a combining
 * accent (none) keeps them straight; widths come from string-width (Unicode's
 * East Asian Width and emoji data), not from String.length.
 */
import stringWidth from 'string-width';

/** Columns a string takes in a terminal. */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** Pad `s` with spaces to `width` display columns. */
export function padDisplay(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** Columns two spaces apart, the last column not padded. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, k) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[k] ?? ''))));
  const line = (r: readonly string[]) =>
    r
      .map((c, k) => (k === r.length - 1 ? c : padDisplay(c, widths[k]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
