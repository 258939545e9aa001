/**
 * A tokenizer for one complete SQL statement, as pg_dump writes them.
 *
 * Used only on the few statements the filter keeps (CREATE TABLE, INSERT and
 * COPY headers of the wanted tables, SET), never to execute anything: the
 * tokens are read to learn column names and literal values.
 *
 * Input is a "binary string" (one char per byte, latin1-decoded), so byte
 * values survive untouched whatever the dump's encoding; see source/.
 * Lexical rules follow PostgreSQL's scan.l: '' inside '...', backslash
 * escapes only in E'...' (or everywhere when standard_conforming_strings is
 * off), "" inside "...", $tag$...$tag$, -- and nested /* comments.
 */
import { RecoverError } from '../errors.js';

export type Token =
  | { kind: 'ident'; value: string; quoted: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'op'; value: string };

const isIdentStart = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
const isIdentChar = (c: number) => isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x24;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;

/** Fold an unquoted identifier as PostgreSQL does (ASCII letters only). */
function foldIdent(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export interface TokenizeOptions {
  /** false when the dump said `SET standard_conforming_strings = off`. */
  standardStrings: boolean;
  /** Stop quietly at an unterminated construct instead of throwing (for statement heads). */
  lenient?: boolean;
}

class Unterminated extends Error {}

export function tokenize(sql: string, opts: TokenizeOptions = { standardStrings: true }): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  try {
    scan();
  } catch (e) {
    if (!(e instanceof Unterminated)) throw e;
  }
  return out;
  function scan(): void {
  const fail = (what: string): never => {
    if (opts.lenient) throw new Unterminated(what);
    throw new RecoverError('SQL_UNTERMINATED', `a statement in the backup has an unterminated ${what}`, {
      hint: 'the backup file is probably truncated or damaged',
    });
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // -- comment to end of line
    if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    // /* nested comment */
    if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) fail('comment');
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    // E'...' escape string
    if ((c === 0x45 || c === 0x65) && sql.charCodeAt(i + 1) === 0x27) {
      const [value, next] = readQuoted(sql, i + 1, true, fail);
      out.push({ kind: 'string', value });
      i = next;
      continue;
    }
    if (c === 0x27) {
      const [value, next] = readQuoted(sql, i, !opts.standardStrings, fail);
      out.push({ kind: 'string', value });
      i = next;
      continue;
    }
    if (c === 0x22) {
      let j = i + 1;
      let value = '';
      for (;;) {
        const q = sql.indexOf('"', j);
        if (q < 0) fail('quoted identifier');
        value += sql.slice(j, q);
        if (sql.charCodeAt(q + 1) === 0x22) {
          value += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push({ kind: 'ident', value, quoted: true });
      continue;
    }
    if (c === 0x24) {
      const m = /^\$([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$/.exec(sql.slice(i, i + 256));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end < 0) fail('dollar-quoted string');
        out.push({ kind: 'string', value: sql.slice(i + tag.length, end) });
        i = end + tag.length;
        continue;
      }
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      out.push({ kind: 'ident', value: foldIdent(sql.slice(i, j)), quoted: false });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 0x2e && isDigit(sql.charCodeAt(i + 1)))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i, i + 400))!;
      out.push({ kind: 'number', value: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === 0x3a && sql.charCodeAt(i + 1) === 0x3a) {
      out.push({ kind: 'op', value: '::' });
      i += 2;
      continue;
    }
    out.push({ kind: 'op', value: sql[i]! });
    i++;
  }
  }
}

/** Read a '...' literal starting at the quote; returns [value, index after it]. */
function readQuoted(sql: string, quoteAt: number, backslashEscapes: boolean, fail: (w: string) => never): [string, number] {
  let j = quoteAt + 1;
  let value = '';
  for (;;) {
    const q = sql.indexOf("'", j);
    const b = backslashEscapes ? sql.indexOf('\\', j) : -1;
    if (q < 0) fail('string literal');
    if (b >= 0 && b < q) {
      value += sql.slice(j, b);
      const [ch, len] = unescapeBackslash(sql, b);
      value += ch;
      j = b + len;
      continue;
    }
    value += sql.slice(j, q);
    if (sql.charCodeAt(q + 1) === 0x27) {
      value += "'";
      j = q + 2;
      continue;
    }
    return [value, q + 1];
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

/** Split `a.b` / `"a"."b"` token runs: returns the name parts and the index after them. */
export function readQualifiedName(tokens: readonly Token[], at: number): [string[], number] | null {
  const parts: string[] = [];
  let i = at;
  for (;;) {
    const t = tokens[i];
    if (!t || t.kind !== 'ident') return null;
    parts.push(t.value);
    i++;
    const dot = tokens[i];
    if (dot && dot.kind === 'op' && dot.value === '.') {
      i++;
      continue;
    }
    return [parts, i];
  }
}

export function isKeyword(t: Token | undefined, word: string): boolean {
  return !!t && t.kind === 'ident' && !t.quoted && t.value === word;
}

export function isOp(t: Token | undefined, op: string): boolean {
  return !!t && t.kind === 'op' && t.value === op;
}
