/**
 * SQL's lexical rules, in one place: where string literals, quoted
 * identifiers, dollar quotes and comments begin and end, and what a literal's
 * text stands for (PostgreSQL's scan.l). Both the statement reader (line by
 * line, across chunks) and the tokenizer (one whole statement) read SQL
 * through it.
 *
 * Incremental: inside a quote or comment, `skip` goes as far as the text it
 * is given and keeps the state for the next text. Text is a "binary string"
 * (latin1, one char per byte): every syntax character is ASCII.
 *
 * Rules: '' inside '...'; backslash escapes only in E'...' (or in every
 * '...' when standard_conforming_strings is off); "" inside "..."; $tag$ ...
 * $tag$; -- to the end of the line; nested /* comments.
 */

/** Where the lexer is: outside (`none`) or inside one construct. */
export type Quote = 'none' | 'single' | 'single-esc' | 'double' | 'dollar' | 'comment' | 'line-comment';

export const isIdentStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
export const isIdentChar = (c: number): boolean => isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x24;

const DOLLAR_TAG = /^\$([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$/;

export class SqlLexer {
  quote: Quote = 'none';
  private dollarTag = '';
  private commentDepth = 0;

  /** false after `SET standard_conforming_strings = off`: backslashes escape in every '...'. */
  constructor(public standardStrings = true) {}

  /**
   * Outside any construct, at text[i]: when one begins there, enter it and
   * return the length of its opener (`'`, `E'`, `"`, `$tag$`, `--`, `/*`);
   * else 0.
   */
  open(text: string, i: number): number {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x27: // '
        this.quote = this.standardStrings ? 'single' : 'single-esc';
        return 1;
      case 0x45: // E'...' (not the end of a longer word)
      case 0x65:
        if (text.charCodeAt(i + 1) !== 0x27 || (i > 0 && isIdentChar(text.charCodeAt(i - 1)))) return 0;
        this.quote = 'single-esc';
        return 2;
      case 0x22: // "
        this.quote = 'double';
        return 1;
      case 0x24: {
        // $tag$, not inside a word ($ is a word character: a$b$ is one name)
        if (i > 0 && isIdentChar(text.charCodeAt(i - 1))) return 0;
        const m = DOLLAR_TAG.exec(text.slice(i, i + 256));
        if (!m) return 0;
        this.quote = 'dollar';
        this.dollarTag = m[0];
        return m[0].length;
      }
      case 0x2d: // --
        if (text.charCodeAt(i + 1) !== 0x2d) return 0;
        this.quote = 'line-comment';
        return 2;
      case 0x2f: // /*
        if (text.charCodeAt(i + 1) !== 0x2a) return 0;
        this.quote = 'comment';
        this.commentDepth = 1;
        return 2;
      default:
        return 0;
    }
  }

  /**
   * Inside a construct, from text[i]: returns the index just after its close
   * (and the lexer is outside again), or at least text.length when the text
   * ends first (and the lexer stays inside, for the next text). A line
   * comment ends at a "\n" in the text, or at endLine.
   */
  skip(text: string, i: number): number {
    const n = text.length;
    for (;;) {
      switch (this.quote) {
        case 'none':
          return i;
        case 'single':
        case 'single-esc': {
          const q = text.indexOf("'", i);
          if (this.quote === 'single-esc') {
            const b = text.indexOf('\\', i);
            if (b >= 0 && (q < 0 || b < q)) {
              // The escaped character is passed over, whatever it is.
              i = b + 2;
              if (i >= n) return i;
              continue;
            }
          }
          if (q < 0) return n;
          if (text.charCodeAt(q + 1) === 0x27) {
            i = q + 2;
            continue;
          }
          this.quote = 'none';
          return q + 1;
        }
        case 'double': {
          const q = text.indexOf('"', i);
          if (q < 0) return n;
          if (text.charCodeAt(q + 1) === 0x22) {
            i = q + 2;
            continue;
          }
          this.quote = 'none';
          return q + 1;
        }
        case 'dollar': {
          const q = text.indexOf(this.dollarTag, i);
          if (q < 0) return n;
          this.quote = 'none';
          return q + this.dollarTag.length;
        }
        case 'comment': {
          const close = text.indexOf('*/', i);
          const open = text.indexOf('/*', i);
          if (open >= 0 && (close < 0 || open < close)) {
            this.commentDepth++;
            i = open + 2;
            continue;
          }
          if (close < 0) return n;
          i = close + 2;
          if (--this.commentDepth === 0) {
            this.quote = 'none';
            return i;
          }
          continue;
        }
        case 'line-comment': {
          const nl = text.indexOf('\n', i);
          if (nl < 0) return n;
          this.quote = 'none';
          return nl + 1;
        }
      }
    }
  }

  /** Inside a comment (whose text is no part of the statement). */
  get inComment(): boolean {
    return this.quote === 'comment' || this.quote === 'line-comment';
  }

  /** The end of a line that was given without its "\n": a line comment ends with it. */
  endLine(): void {
    if (this.quote === 'line-comment') this.quote = 'none';
  }

  /** The closing quote's length of the construct just opened (its body ends that far before skip's result). */
  closerLength(): number {
    return this.quote === 'dollar' ? this.dollarTag.length : 1;
  }
}

/** What the body of a literal or quoted identifier (between its quotes) stands for, as a binary string. */
export function literalValue(quote: Quote, body: string): string {
  switch (quote) {
    case 'single':
      return body.includes("''") ? body.replace(/''/g, "'") : body;
    case 'double':
      return body.includes('""') ? body.replace(/""/g, '"') : body;
    case 'single-esc':
      return unescapeString(body);
    default:
      return body;
  }
}

/** The body of an E'...' literal: backslash escapes and ''. */
function unescapeString(body: string): string {
  let value = '';
  let j = 0;
  for (;;) {
    const q = body.indexOf("'", j);
    const b = body.indexOf('\\', j);
    if (b >= 0 && (q < 0 || b < q)) {
      value += body.slice(j, b);
      const [ch, len] = unescapeBackslash(body, b);
      value += ch;
      j = b + len;
      continue;
    }
    if (q < 0) return value + body.slice(j);
    // A quote in a whole body is always the first of a doubled ''.
    value += body.slice(j, q) + "'";
    j = q + 2;
  }
}

/** One backslash escape of an E'' string; returns [bytes as binary string, length consumed]. */
function unescapeBackslash(sql: string, at: number): [string, number] {
  const c = sql[at + 1];
  switch (c) {
    case 'b':
      return ['\b', 2];
    case 'f':
      return ['\f', 2];
    case 'n':
      return ['\n', 2];
    case 'r':
      return ['\r', 2];
    case 't':
      return ['\t', 2];
    case undefined:
      return ['', 1];
  }
  let m = /^[0-7]{1,3}/.exec(sql.slice(at + 1, at + 4));
  if (m) return [String.fromCharCode(parseInt(m[0], 8) & 0xff), 1 + m[0].length];
  m = /^x([0-9A-Fa-f]{1,2})/.exec(sql.slice(at + 1, at + 4));
  if (m) return [String.fromCharCode(parseInt(m[1]!, 16)), 1 + m[0].length];
  m = /^(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))/.exec(sql.slice(at + 1, at + 10));
  if (m) {
    // A Unicode escape names a code point; the binary string holds UTF-8 bytes.
    const cp = parseInt((m[1] ?? m[2])!, 16);
    return [Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1'), 1 + m[0].length];
  }
  return [c, 2];
}
