/**
 * Statements out of the dump's lines: finds the `;` that ends each one
 * (outside literals and comments, which the lexer knows), keeps a statement's
 * text only when its head says it may matter (wantsWholeStatement), and
 * passes psql meta-command lines (`\connect`, `\restrict`) and comments at a
 * statement's start on as they are. Comments are dropped from the kept text.
 */
import { SqlLexer } from './lexer.js';
import { wantsWholeStatement } from './statements.js';
import { tokenize } from './tokens.js';

/** How much of a statement's text is enough to decide whether to keep it. */
const HEAD_CHARS = 512;

export interface StatementHandler {
  /** A psql meta-command: its line from the backslash. Never run. */
  meta(command: string): void;
  /** A `--` comment where a statement may start: its line from the dashes. */
  comment(text: string): void;
  /**
   * A `;` ended a statement: its text when kept, null when its head showed it
   * does not matter. Returns true when COPY data follows on the next line
   * (the rest of this one is ignored).
   */
  statement(sql: string | null): boolean;
}

export class StatementReader {
  /** Quotes and comments, carried from line to line; its standardStrings is the dump's setting. */
  readonly lexer = new SqlLexer();
  /** No statement text yet, only blanks and comments: a meta-command may come. */
  private atStart = true;
  private keep: 'undecided' | 'yes' | 'no' = 'undecided';
  private text: string[] = [];
  private textLen = 0;

  constructor(private readonly handler: StatementHandler) {}

  /** The dump ends inside a statement (or a literal or comment). */
  get unfinished(): boolean {
    return this.lexer.quote !== 'none' || (!this.atStart && this.keep !== 'no' && this.textLen > 0);
  }

  /** One line of SQL, without its newline. */
  line(line: string): void {
    const lexer = this.lexer;
    const n = line.length;
    let i = 0;
    let span = 0; // start of text not yet appended
    while (i < n) {
      if (lexer.quote !== 'none') {
        const comment = lexer.inComment;
        i = lexer.skip(line, i);
        if (comment) span = i;
        continue;
      }
      const c = line.charCodeAt(i);
      if (this.atStart) {
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0c) {
          i++;
          span = i;
          continue;
        }
        if (c === 0x5c) {
          // A psql meta-command (\connect, \restrict KEY, \! ...): the rest of the line.
          this.handler.meta(i ? line.slice(i) : line);
          return;
        }
      }
      const opener = lexer.open(line, i);
      if (opener) {
        if (lexer.inComment) {
          if (this.atStart && c === 0x2d) this.handler.comment(i ? line.slice(i) : line);
          // A comment is a blank in the kept text.
          this.append(line, span, i);
          this.append(' ', 0, 1);
          span = i + opener;
        } else this.atStart = false;
        i += opener;
        continue;
      }
      this.atStart = false;
      if (c === 0x3b) {
        if (this.finish(line, span, i + 1)) return;
        span = i + 1;
      }
      i++;
    }
    lexer.endLine();
    this.append(line, span, n);
    if (!this.atStart || lexer.quote !== 'none') this.append('\n', 0, 1);
  }

  /** A new database's part begins: its session's settings are the defaults again. */
  reset(): void {
    this.lexer.standardStrings = true;
  }

  /** The `;` ending at `end`: hand the statement on. Returns true when COPY data follows. */
  private finish(line: string, span: number, end: number): boolean {
    this.append(line, span, end);
    if (this.keep === 'undecided') this.decide(true);
    const sql = this.keep === 'yes' ? this.text.join('') : null;
    this.text = [];
    this.textLen = 0;
    this.keep = 'undecided';
    this.atStart = true;
    return this.handler.statement(sql);
  }

  private append(s: string, from: number, to: number): void {
    if (to <= from || this.keep === 'no') return;
    const piece = s.slice(from, to);
    this.text.push(piece);
    this.textLen += piece.length;
    if (this.keep === 'undecided' && this.textLen >= HEAD_CHARS) this.decide(false);
  }

  /** Decide from the statement's head whether its whole text is worth keeping. */
  private decide(complete: boolean): void {
    const head = this.text.join('');
    // The head may end inside a literal; a lenient tokenizer returns the
    // tokens before it, which is all the decision needs.
    const tokens = tokenize(head, { standardStrings: this.lexer.standardStrings, lenient: !complete });
    this.keep = wantsWholeStatement(tokens) ? 'yes' : 'no';
    if (this.keep === 'no') {
      this.text = [];
      this.textLen = 0;
    } else {
      this.text = [head];
    }
  }
}
