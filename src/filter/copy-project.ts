/**
 * The fast path of a projection that drops columns (users' bulky
 * latest_json, megabytes a row in a big server): COPY rows read field by
 * field in the Buffers as they come. Only the kept fields become strings; a
 * dropped one is passed over by its tabs, never copied, however many chunks
 * its row spans. The line reader's way (a whole line as a string, then
 * split) copied every byte of such a row at least twice.
 */
import { RecoverError } from '../errors.js';
import { MAX_LINE_CHARS, type LineReader } from './lines.js';
import type { Projection } from './projection.js';

const LF = 0x0a;
const TAB = 0x09;
const CR = '\r';
const END_MARKER = '\\.';

/**
 * The first tab at or after a position of a chunk, remembered: a tab found past one row is the
 * answer for the rows (and blocks) before it, so rows without tabs (or blocks of no rows) are not
 * each searched to the chunk's end, and each byte is searched once a chunk. (Not
 * buf.subarray(at, end).indexOf: a view object per field, most of a backup's allocations.)
 * `chunk()` before each new chunk: a source may hand on the same Buffer again, refilled.
 */
export class TabSearch {
  private buf: Buffer | null = null;
  private next = -1;

  /** A new chunk comes: what was found is for the last one. */
  chunk(): void {
    this.buf = null;
  }

  /** The first tab at or after `at` in buf (positions only move forward within a chunk); buf.length for none. */
  from(buf: Buffer, at: number): number {
    if (buf !== this.buf || at > this.next) {
      const tab = buf.indexOf(TAB, at);
      this.buf = buf;
      this.next = tab < 0 ? buf.length : tab;
    }
    return this.next;
  }
}

/** Can `p`'s rows be read this way? Rows filtered by a field's value (settings' keys, textsOf's authors) are read elsewhere. */
export function projectsInBuffer(p: Projection): boolean {
  return !p.identity && p.keyIndex < 0 && p.userIndex < 0;
}

export class ProjectedRows {
  /** Source index of the field being read. */
  private field = 0;
  /** The current row has begun (a chunk ended inside it). */
  private inRow = false;
  /** Up to the first 4 bytes of the row: enough to tell the end marker "\\." (with a CR before its newline in a CRLF dump) from a row that only begins like it. */
  private head = '';
  /** The kept field being read, in pieces (it may span chunks). */
  private pieces: string[] = [];
  /** Bytes of the row's kept fields so far, tabs between them included. */
  private rowLen = 0;
  /** The current row's kept fields, by output position. */
  private readonly out: string[];
  /** For each source field, its output position, or -1 when dropped. */
  private readonly slot: Int32Array;

  constructor(
    private readonly p: Projection,
    private readonly lines: LineReader,
    /** The filter's, shared by its blocks and told of each chunk (SqlFilter.push). */
    private readonly tabs: TabSearch,
    /** The most bytes a row's kept fields may have together (tests make it small). */
    private readonly maxRow = MAX_LINE_CHARS,
  ) {
    this.out = new Array<string>(p.pick.length).fill('');
    this.slot = new Int32Array(p.sourceWidth).fill(-1);
    p.pick.forEach((source, k) => (this.slot[source] = k));
  }

  /**
   * Rows from buf[pos] on, each projected to `onRow`, up to the block's end marker, after which
   * `onEnd` is called and the index just past the marker's line returned; else buf.length, the row
   * cut by the chunk's end carried here (not in the line reader) to the next call.
   */
  read(buf: Buffer, pos: number, onRow: (row: string) => void, onEnd: () => void): number {
    let at = pos;
    while (at < buf.length) {
      const nl = buf.indexOf(LF, at);
      const lineEnd = nl < 0 ? buf.length : nl;
      this.fields(buf, at, lineEnd);
      if (nl < 0) return buf.length;
      at = nl + 1;
      if (this.endRow()) {
        onEnd();
        return at;
      }
      onRow(this.out.join('\t'));
    }
    return at;
  }

  /**
   * The dump has ended: the row begun and not ended, if any, is its last line (counted, as the
   * line reader counts one). Returns true when that line is the end marker: the block is complete.
   */
  takeLast(): boolean {
    if (!this.inRow) return false;
    this.lines.lineNo++;
    return this.isMarker();
  }

  /** The row read so far is exactly the end marker (a CRLF dump's with its CR). */
  private isMarker(): boolean {
    return this.field === 0 && (this.head === END_MARKER || (this.lines.crlf === true && this.head === END_MARKER + CR));
  }

  /** The fields of the row in buf[from, end), which may continue one begun earlier and go on in a later chunk. */
  private fields(buf: Buffer, from: number, end: number): void {
    this.inRow = true;
    if (this.head.length < 4) this.head += buf.toString('latin1', from, Math.min(end, from + 4 - this.head.length));
    let at = from;
    for (;;) {
      // Without a tab before `end`, the last field ends there.
      const next = this.tabs.from(buf, at);
      const tab = next < end ? next : -1;
      const fieldEnd = tab < 0 ? end : tab;
      if (this.keptAt(this.field) >= 0 && fieldEnd > at) this.keepPiece(buf, at, fieldEnd);
      if (tab < 0) return;
      this.closeField();
      this.field++;
      at = tab + 1;
    }
  }

  /** Source field k's output position, or -1 when it is dropped (or past the row's width). */
  private keptAt(k: number): number {
    return k < this.p.sourceWidth ? this.slot[k]! : -1;
  }

  /** Bytes of a kept field. A row's kept fields may be as long as a line may be (lines.ts), and no longer: past that it is no dump's. */
  private keepPiece(buf: Buffer, from: number, to: number): void {
    this.rowLen += to - from;
    if (this.rowLen > this.maxRow) {
      throw new RecoverError('BACKUP_LINE_TOO_LONG', `a row of ${this.p.table} at line ${this.lines.lineNo + 1} of the backup keeps more than ${this.maxRow} bytes`, {
        hint: 'this is not a SQL dump, or it is damaged',
      });
    }
    this.pieces.push(buf.toString('latin1', from, to));
  }

  /** The current field is complete: put it in its output place when kept. */
  private closeField(): void {
    const k = this.keptAt(this.field);
    if (k >= 0) {
      this.out[k] = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
      this.rowLen++; // the tab that joins it to the next
    }
    this.pieces = [];
  }

  /** The row's newline was read: returns true when it was the end marker; else the row is checked and its fields are in `out`. */
  private endRow(): boolean {
    this.lines.lineNo++;
    const width = this.field + 1;
    const marker = this.isMarker();
    // The last field ends before the CR of a CRLF dump's newline.
    if (this.lines.crlf === true && this.pieces.length) {
      const last = this.pieces.length - 1;
      if (this.pieces[last]!.endsWith(CR)) this.pieces[last] = this.pieces[last]!.slice(0, -1);
    }
    this.closeField();
    this.field = 0;
    this.rowLen = 0;
    this.inRow = false;
    this.head = '';
    if (marker) return true;
    if (width !== this.p.sourceWidth) {
      throw new RecoverError('BACKUP_BAD_ROW', `a row of ${this.p.table} at line ${this.lines.lineNo} has ${width} fields, expected ${this.p.sourceWidth}`, {
        hint: 'the backup is damaged',
      });
    }
    return false;
  }
}
