/**
 * A tokenizer for one complete SQL statement, as pg_dump writes them.
 *
 * Used only on the few statements the filter keeps (CREATE TABLE, INSERT and
 * COPY headers of the wanted tables, SET), never to execute anything: the
 * tokens are read to learn column names and literal values.
 *
 * Input is a "binary string" (one char per byte, latin1-decoded), so byte
 * values survive untouched whatever the dump's encoding; see source/.
 * Where literals, quoted identifiers and comments end, and what a literal
 * stands for, is the lexer's (lexer.ts); this reads the words, numbers and
 * operators between them.
 */
import { RecoverError } from '../errors.js';
import { isIdentChar, isIdentStart, literalValue, SqlLexer, type Quote } from './lexer.js';

export type Token =
  | { kind: 'ident'; value: string; quoted: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'op'; value: string };

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

/** What an unterminated construct is called in messages. */
const CONSTRUCT_NAMES: Record<Quote, string> = {
  none: '',
  'line-comment': 'comment',
  single: 'string literal',
  'single-esc': 'string literal',
  double: 'quoted identifier',
  dollar: 'dollar-quoted string',
  comment: 'comment',
};

export function tokenize(sql: string, opts: TokenizeOptions = { standardStrings: true }): Token[] {
  const out: Token[] = [];
  const lexer = new SqlLexer(opts.standardStrings);
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const opener = lexer.open(sql, i);
    if (opener) {
      // A literal, quoted identifier or comment: the lexer finds its end.
      const quote = lexer.quote;
      const body = i + opener;
      const closer = lexer.closerLength();
      i = lexer.skip(sql, body);
      if (quote === 'line-comment') {
        lexer.endLine();
        continue;
      }
      if (lexer.quote !== 'none') {
        if (opts.lenient) return out;
        throw new RecoverError('SQL_UNTERMINATED', `a statement in the backup has an unterminated ${CONSTRUCT_NAMES[quote]}`, {
          hint: 'the backup file is probably truncated or damaged',
        });
      }
      if (quote === 'comment') continue;
      const value = literalValue(quote, sql.slice(body, i - closer));
      out.push(quote === 'double' ? { kind: 'ident', value, quoted: true } : { kind: 'string', value });
      continue;
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
  return out;
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
