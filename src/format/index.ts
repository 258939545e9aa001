/**
 * format: plain text tables for the terminal, aligned by display width, so a
 * CJK name or an emoji (two columns each) or a combining accent (none) keeps
 * the columns straight. Widths come from string-width (Unicode's East Asian
 * Width and emoji data), not from String.length.
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

/** A table: a head row and rows, columns two spaces apart, the last column not padded. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, k) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[k] ?? ''))));
  const line = (r: readonly string[]) =>
    r
      .map((c, k) => (k === r.length - 1 ? c : padDisplay(c, widths[k]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
