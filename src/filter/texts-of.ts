/**
 * The fast path of FilterOptions.textsOf: the rows of a texts table, in the
 * Buffer as read. A line's user_id is found by its tabs and only the kept
 * lines (and the block's end marker) become strings; the other students'
 * texts, nearly all of the table, never do.
 */
import type { LineReader } from './lines.js';

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/**
 * From buf[pos], a line start: hands each line by one of `authors` (user_id
 * is field `userIndex`) to `onLine`, and then the end marker "\\.", after
 * which it returns the index just past it. A line cut by the Buffer's end is
 * carried in `lines` (the line reader takes it on) and buf.length returned.
 */
export function readTextsOf(
  buf: Buffer,
  pos: number,
  userIndex: number,
  authors: ReadonlySet<string>,
  lines: LineReader,
  onLine: (line: string) => void,
): number {
  let at = pos;
  for (;;) {
    const nl = buf.indexOf(LF, at);
    if (nl < 0) {
      lines.carryPiece(buf.toString('latin1', at));
      return buf.length;
    }
    const end = lines.crlf && nl > at && buf[nl - 1] === CR ? nl - 1 : nl;
    lines.lineNo++;
    if (isCopyEnd(buf, at, end)) {
      onLine('\\.');
      return nl + 1;
    }
    if (authors.has(fieldOf(buf, at, end, userIndex))) onLine(buf.toString('latin1', at, end));
    at = nl + 1;
  }
}

/** The line buf[start, end) (no newline) is a COPY block's end marker, "\\.". */
export function isCopyEnd(buf: Buffer, start: number, end: number): boolean {
  return end - start === 2 && buf[start] === BACKSLASH && buf[start + 1] === DOT;
}

/** Field `n` of the COPY text line buf[start, end), as a binary string; the rest is not read. */
export function fieldOf(buf: Buffer, start: number, end: number, n: number): string {
  // Byte by byte, never past the line: the field is near its start (user_id comes fourth).
  let from = start;
  for (let k = 0; k < n; k++) {
    while (from < end && buf[from] !== TAB) from++;
    if (from >= end) return '';
    from++;
  }
  let to = from;
  while (to < end && buf[to] !== TAB) to++;
  return buf.toString('latin1', from, to);
}
