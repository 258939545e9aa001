/**
 * A plain text table, columns padded to fit: the one renderer for every
 * table the tool prints (users, history, merge and export-all summaries).
 */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, k) => (k === r.length - 1 ? c : c.padEnd(widths[k]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
