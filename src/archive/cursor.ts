/**
 * A byte cursor over a buffer that may hold only a prefix of the archive: PostgreSQL's
 * ReadInt / ReadStr / ReadOffset (src/bin/pg_dump/pg_backup_archiver.c). Pure: no I/O.
 * When the buffer ends early it throws NeedMoreBytes, so a caller can read more and retry.
 */
import { K_OFFSET_NO_DATA, K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET, MAX_STRING_LENGTH } from './constants.js';
import { corrupt } from './damage.js';

/** Thrown when the buffer ends early; `needed` is the buffer length that would do. */
export class NeedMoreBytes extends Error {
  constructor(
    readonly needed: number,
    readonly what: string,
  ) {
    super(`need ${needed} bytes for ${what}`);
  }
}

export interface CursorLimits {
  /** Total bytes of the header+TOC stream (file or member size), when known. */
  totalSize?: number;
}

/**
 * ReadInt's value from bytes: a sign byte (any non-zero = negative), then intSize bytes,
 * least significant first.
 */
export function decodeInt(buf: Buffer, at: number, intSize: number): number {
  let value = 0;
  for (let i = 0; i < intSize; i++) value += (buf[at + 1 + i] as number) * 2 ** (8 * i);
  return buf[at] !== 0 && value !== 0 ? -value : value;
}

export class Cursor {
  pos = 0;
  intSize = 4;
  offSize = 8;
  version = 0;
  constructor(
    readonly buf: Buffer,
    readonly limits: CursorLimits = {},
  ) {}

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new NeedMoreBytes(this.pos + n, what);
  }

  byte(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  /** ReadInt. */
  int(what: string): number {
    this.need(1 + this.intSize, what);
    const value = decodeInt(this.buf, this.pos, this.intSize);
    this.pos += 1 + this.intSize;
    return value;
  }

  /** ReadStr's length, checked: -1 is NULL; other negatives and absurd lengths are corrupt. */
  private strLength(what: string): number | null {
    const at = this.pos;
    const len = this.int(`the length of ${what}`);
    if (len === -1) return null;
    if (len < 0) throw corrupt(`expected a string length >= -1 for ${what} at byte ${at}, found a negative length`);
    const limit = this.limits.totalSize;
    if (len > MAX_STRING_LENGTH || (limit !== undefined && len > limit)) {
      throw corrupt(
        `expected a string length for ${what} at byte ${at} that fits in the archive${limit === undefined ? '' : ` (${limit} bytes)`}, found ${len}`,
      );
    }
    this.need(len, what);
    return len;
  }

  /** ReadStr: a length-prefixed string, NULL when the length is -1. */
  str(what: string): string | null {
    const len = this.strLength(what);
    if (len === null) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** ReadStr without decoding (statements nobody needs). */
  skipStr(what: string): void {
    const len = this.strLength(what);
    if (len !== null) this.pos += len;
  }

  /** ReadOffset (archive >= 1.7): a flag byte, then offSize bytes, least significant first. */
  offset(what: string): { flag: number; value: bigint | number } {
    const at = this.pos;
    this.need(1 + this.offSize, what);
    const flag = this.buf[this.pos] as number;
    if (flag !== K_OFFSET_POS_NOT_SET && flag !== K_OFFSET_POS_SET && flag !== K_OFFSET_NO_DATA) {
      throw corrupt(`expected a data-offset flag 1, 2 or 3 for ${what} at byte ${at}, found ${flag}`);
    }
    let value = 0n;
    for (let i = 0; i < this.offSize; i++) {
      const b = this.buf[this.pos + 1 + i] as number;
      if (i >= 8 && b !== 0) throw corrupt(`expected a data offset below 2^64 for ${what} at byte ${at}, found a wider one`);
      value |= BigInt(b) << BigInt(8 * i);
    }
    this.pos += 1 + this.offSize;
    return { flag, value: value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value };
  }
}
