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

/** Can `p`'s rows be read this way? Rows filtered by a field's value (settings' keys, textsOf's authors) are read elsewhere. */
export function projectsInBuffer(p: Projection): boolean {
  return !p.identity && p.keyIndex < 0 && p.userIndex < 0;
}

export class ProjectedRows {
  /** Source index of the field being read. */
  private field = 0;
  /** The current row has begun (a chunk ended inside it). */
  private inRow = false;
  /** Up to the first 3 bytes of the row, to tell the end marker "\\." (with a CR before its newline) from a row. */
  private head = '';
  /** The kept field being read, in pieces (it may span chunks), and their length. */
  private pieces: string[] = [];
  private piecesLen = 0;
  /** The current row's kept fields, by output position. */
  private readonly out: string[];
  /** For each source field, its output position, or -1 when dropped. */
  private readonly slot: Int32Array;

  constructor(
    private readonly p: Projection,
    private readonly lines: LineReader,
    /** The longest kept field, in bytes (tests make it small). */
    private readonly maxField = MAX_LINE_CHARS,
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

  /** The pending row is the end marker without its newline (the dump's last line): the block is complete. */
  get endsAtMarker(): boolean {
    return this.inRow && this.field === 0 && this.head === END_MARKER;
  }

  /** The fields of the row in buf[from, end), which may continue one begun earlier and go on in a later chunk. */
  private fields(buf: Buffer, from: number, end: number): void {
    this.inRow = true;
    if (this.head.length < 3) this.head += buf.toString('latin1', from, Math.min(end, from + 3 - this.head.length));
    let at = from;
    for (;;) {
      // A tab past this row's end belongs to the next row: the last field ends at `end`.
      let tab = this.field < this.p.sourceWidth ? buf.indexOf(TAB, at) : -1;
      if (tab >= end) tab = -1;
      const fieldEnd = tab < 0 ? end : tab;
      if (this.slot[this.field] !== undefined && this.slot[this.field]! >= 0 && fieldEnd > at) this.keepPiece(buf, at, fieldEnd);
      if (tab < 0) return;
      this.closeField();
      this.field++;
      at = tab + 1;
    }
  }

  /** Bytes of a kept field. As long as a line may be (lines.ts), and no longer: past that it is no dump's. */
  private keepPiece(buf: Buffer, from: number, to: number): void {
    this.piecesLen += to - from;
    if (this.piecesLen > this.maxField) {
      throw new RecoverError('BACKUP_LINE_TOO_LONG', `a field of ${this.p.table} at line ${this.lines.lineNo + 1} of the backup is longer than ${this.maxField} bytes`, {
        hint: 'this is not a SQL dump, or it is damaged',
      });
    }
    this.pieces.push(buf.toString('latin1', from, to));
  }

  /** The current field is complete: put it in its output place when kept. */
  private closeField(): void {
    const k = this.field < this.p.sourceWidth ? this.slot[this.field]! : -1;
    if (k >= 0) this.out[k] = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
    this.pieces = [];
    this.piecesLen = 0;
  }

  /** The row's newline was read: returns true when it was the end marker; else the row is checked and its fields are in `out`. */
  private endRow(): boolean {
    this.lines.lineNo++;
    const crlf = this.lines.crlf === true;
    const width = this.field + 1;
    const marker = width === 1 && (this.head === END_MARKER || (crlf && this.head === END_MARKER + CR));
    // The last field ends before the CR of a CRLF dump's newline.
    if (crlf && this.pieces.length) {
      const last = this.pieces.length - 1;
      if (this.pieces[last]!.endsWith(CR)) this.pieces[last] = this.pieces[last]!.slice(0, -1);
    }
    this.closeField();
    this.field = 0;
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
