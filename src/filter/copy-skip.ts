/**
 * Reading past an unwanted table's COPY data, in the Buffers as read: no
 * per-line work and no conversion to strings. Nearly all of a real backup
 * goes through here.
 */

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
/** A line that starts with the end marker "\\.", as bytes. */
const LINE_START_MARKER = Buffer.from('\n\\.', 'latin1');
/** How far the end-marker line has been matched. */
const MID_LINE = -1;
const LINE_START = 0;
const AFTER_BACKSLASH = 1;
const AFTER_DOT = 2;
const AFTER_CR = 3;

export class CopySkipper {
  /** How much of an end-marker line has been seen; a block's data starts at a line start. */
  private at = LINE_START;

  /** A block to skip begins (its data starts on the next byte). */
  start(): void {
    this.at = LINE_START;
  }

  /**
   * Skip data from buf[pos]: returns the index just after the block's end
   * marker line, or -1 when the Buffer ends first. indexOf finds the next
   * "\n\\." and a few bytes confirm the end-marker line ("\\." then LF, or
   * CR LF in a CRLF dump); a marker cut by the Buffer's end is carried into
   * the next. In COPY text a data line never starts with "\\." (copyto.c
   * escapes every backslash), so false starts are rare, but are checked all
   * the same.
   */
  skip(buf: Buffer, pos: number): number {
    let i = pos;
    for (;;) {
      // Byte by byte while a marker may be in progress (at most four bytes).
      while (this.at !== MID_LINE && i < buf.length) {
        const c = buf[i++]!;
        switch (this.at) {
          case LINE_START:
            this.at = c === BACKSLASH ? AFTER_BACKSLASH : c === LF ? LINE_START : MID_LINE;
            break;
          case AFTER_BACKSLASH:
            this.at = c === DOT ? AFTER_DOT : c === LF ? LINE_START : MID_LINE;
            break;
          case AFTER_DOT:
          case AFTER_CR:
            if (c === LF) {
              this.at = LINE_START;
              return i;
            }
            this.at = c === CR && this.at === AFTER_DOT ? AFTER_CR : MID_LINE;
            break;
        }
      }
      if (i >= buf.length) return -1;
      const next = buf.indexOf(LINE_START_MARKER, i);
      if (next >= 0) {
        i = next + LINE_START_MARKER.length;
        this.at = AFTER_DOT;
        continue;
      }
      // The Buffer may end inside "\n\\.": carry the part it holds.
      const last = buf.length - 1;
      if (last >= i && buf[last] === LF) this.at = LINE_START;
      else if (last - 1 >= i && buf[last] === BACKSLASH && buf[last - 1] === LF) this.at = AFTER_BACKSLASH;
      return -1;
    }
  }
}
