/**
 * Lines out of the dump's Buffers, as binary strings (latin1: the bytes pass
 * through whatever the dump's encoding), without their "\n" (or "\r\n" in a
 * dump whose every newline became CRLF). A line cut by a chunk's end is
 * carried to the next. Also the line count, for messages.
 */
import { constants } from 'node:buffer';
import { RecoverError } from '../errors.js';

/** Lines are read as strings in windows of about this many bytes, at most. */
const LINE_WINDOW = 64 * 1024;
/**
 * The window after a line that handed the Buffer to another reader (a COPY statement's: its data
 * is read in the Buffer), doubled with each window read whole: a statement or two come between
 * COPY blocks, and a whole LINE_WINDOW made into a string for them was most of what a backup's
 * reading allocated.
 */
const FIRST_WINDOW = 4 * 1024;
/**
 * No line of a real dump comes near this; a longer one means a damaged file. 512 MiB, less what
 * keeps a line and the window read after it within the longest string V8 can make.
 */
export const MAX_LINE_CHARS = Math.min(512 * 1024 * 1024, constants.MAX_STRING_LENGTH - 2 * LINE_WINDOW);
const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  /** Lines read so far (by this reader, or counted by a piece that reads the Buffer itself). */
  lineNo = 0;
  /** Set from the first line: the whole dump had every "\n" turned into "\r\n". */
  crlf: boolean | undefined;
  /** The bytes the next read makes into a string, about (FIRST_WINDOW, doubling to LINE_WINDOW). */
  private window = FIRST_WINDOW;
  /** The line begun but not yet ended, as pieces: joined once, when it ends. */
  private carry: string[] = [];
  private carryLen = 0;

  /** `maxLine`: the longest line taken, in bytes (tests make it small). */
  constructor(private readonly maxLine = MAX_LINE_CHARS) {}

  /** A line has begun and not ended. */
  get carrying(): boolean {
    return this.carryLen > 0;
  }

  /**
   * Whole lines from buf[pos] for about a window's bytes (FIRST_WINDOW to LINE_WINDOW), each handed to
   * `onLine`; stops early after a line for which onLine returns true (what
   * follows is read from the Buffer as it is). Returns where it stopped.
   */
  read(buf: Buffer, pos: number, onLine: (line: string) => boolean): number {
    // A chunk that ends no line only lengthens the carried one: it is kept as a piece, and
    // neither it nor the carry is scanned again (a long line in small chunks stays linear).
    const nl = buf.indexOf(LF, pos);
    if (nl < 0) {
      this.carryPiece(buf.toString('latin1', pos));
      return buf.length;
    }
    const far = buf.indexOf(LF, Math.min(pos + this.window, buf.length - 1));
    let stop = far < 0 ? buf.length : far + 1;
    if (this.carryLen) {
      // A carried line ends at nl: checked before it is made whole, and followed in the string by a
      // window at most (a line cut there is carried on), so the string stays within the longest V8
      // makes (MAX_LINE_CHARS' margin), where a long line after it could have taken it past.
      if (this.carryLen + (nl - pos) > this.maxLine) this.tooLong();
      stop = Math.min(stop, nl + 1 + this.window);
    }
    const carry = this.takeCarry();
    const data = carry + buf.toString('latin1', pos, stop);
    // data[k] is buf[k + shift]: the carried partial line came before pos.
    const shift = pos - carry.length;
    let at = 0;
    // The carried part holds no newline.
    let from = carry.length;
    for (;;) {
      const nl = data.indexOf('\n', from);
      if (nl < 0) break;
      let end = nl;
      if (this.crlf === undefined) this.crlf = nl > 0 && data.charCodeAt(nl - 1) === CR;
      if (this.crlf && end > at && data.charCodeAt(end - 1) === CR) end--;
      this.lineNo++;
      const line = data.slice(at, end);
      at = from = nl + 1;
      if (onLine(line)) {
        this.window = FIRST_WINDOW;
        return at + shift;
      }
    }
    this.window = Math.min(2 * this.window, LINE_WINDOW);
    this.carryPiece(data.slice(at));
    return stop;
  }

  /** The start of a line whose end is in a later chunk. */
  carryPiece(piece: string): void {
    if (!piece) return;
    this.carry.push(piece);
    this.carryLen += piece.length;
    if (this.carryLen > this.maxLine) this.tooLong();
  }

  private tooLong(): never {
    throw new RecoverError('BACKUP_LINE_TOO_LONG', `line ${this.lineNo + 1} of the backup is longer than ${this.maxLine} bytes`, {
      hint: 'this is not a SQL dump, or it is damaged',
    });
  }

  /** At the dump's end: its last line when it has no "\n" (counted), else null. */
  takeLast(): string | null {
    if (!this.carryLen) return null;
    let last = this.takeCarry();
    if (this.crlf && last.endsWith('\r')) last = last.slice(0, -1);
    this.lineNo++;
    return last;
  }

  private takeCarry(): string {
    const carry = this.carry.length === 1 ? this.carry[0]! : this.carry.join('');
    this.carry = [];
    this.carryLen = 0;
    return carry;
  }
}
