/**
 * The filter's pieces, each alone: the lexer, lines out of Buffers,
 * statements out of lines, COPY projection, the Buffer skip of unwanted COPY
 * data, the textsOf fast path, INSERT rows and row batches. The whole filter
 * is tested in filter.test.ts and filter-property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { RowBatches } from '../src/filter/batches.js';
import { ProjectedRows, projectsInBuffer, TabSearch } from '../src/filter/copy-project.js';
import { CopySkipper } from '../src/filter/copy-skip.js';
import { copyField, InsertRows } from '../src/filter/inserts.js';
import { literalValue, SqlLexer } from '../src/filter/lexer.js';
import { LineReader } from '../src/filter/lines.js';
import { project, projectCopyLine } from '../src/filter/projection.js';
import { StatementReader } from '../src/filter/statement-reader.js';
import { fieldOf, readTextsOf } from '../src/filter/texts-of.js';
import type { FilterEvent, FilterStats } from '../src/filter/types.js';

const b = (s: string) => Buffer.from(s, 'latin1');

/** Where each construct opened in `text` ends, by the lexer: [opener index, index after close]. */
function constructs(text: string, standardStrings = true): [number, number][] {
  const lexer = new SqlLexer(standardStrings);
  const out: [number, number][] = [];
  let i = 0;
  while (i < text.length) {
    const opener = lexer.open(text, i);
    if (!opener) {
      i++;
      continue;
    }
    const end = lexer.skip(text, i + opener);
    out.push([i, lexer.quote === 'none' ? end : -1]);
    if (lexer.quote !== 'none') break;
    i = end;
  }
  return out;
}

describe('SqlLexer', () => {
  it('finds where literals, quoted names, dollar quotes and comments end', () => {
    expect(constructs(`a 'x''y' b`)).toEqual([[2, 8]]);
    expect(constructs(`"a""b" c`)).toEqual([[0, 6]]);
    expect(constructs(`$fn$ 'not;' $x$ $fn$;`)).toEqual([[0, 20]]);
    expect(constructs(`/* a /* b */ c */ d`)).toEqual([[0, 17]]);
    expect(constructs(`-- x 'y\nz 'w'`)).toEqual([[0, 8], [10, 13]]);
  });

  it('reads backslashes as escapes in E strings, and in all strings when standard_conforming_strings is off', () => {
    expect(constructs(`E'a\\'b' c`)).toEqual([[0, 7]]);
    expect(constructs(`'a\\'b' c'`)).toEqual([[0, 4], [5, 9]]);
    expect(constructs(`'a\\'b' c`, false)).toEqual([[0, 6]]);
    // The E of a longer word is no prefix: the string is plain.
    expect(constructs(`abe'a\\' x`)).toEqual([[3, 7]]);
  });

  it('takes $ inside a word as part of the word, not a dollar quote', () => {
    expect(constructs(`a$b$ 'x'`)).toEqual([[5, 8]]);
    expect(constructs(`$1 'x'`)).toEqual([[3, 6]]);
  });

  it('carries the state inside a construct from one text to the next', () => {
    const lexer = new SqlLexer();
    expect(lexer.open('$q$ one', 0)).toBe(3);
    expect(lexer.skip('$q$ one', 3)).toBe(7);
    expect(lexer.quote).toBe('dollar');
    expect(lexer.skip('two $q$ after', 0)).toBe(7);
    expect(lexer.quote).toBe('none');
    expect(lexer.open('/* a /* b */', 0)).toBe(2);
    expect(lexer.skip('/* a /* b */', 2)).toBe(12);
    expect(lexer.quote).toBe('comment');
    expect(lexer.skip('c */ d', 0)).toBe(4);
    expect(lexer.quote).toBe('none');
  });

  it('ends a line comment at a newline in the text, or at endLine', () => {
    const lexer = new SqlLexer();
    expect(lexer.open('-- comment', 0)).toBe(2);
    expect(lexer.skip('-- comment', 2)).toBe(10);
    expect(lexer.inComment).toBe(true);
    lexer.endLine();
    expect(lexer.quote).toBe('none');
  });

  it("reads what a literal's body stands for", () => {
    expect(literalValue('single', "o''brien")).toBe("o'brien");
    expect(literalValue('double', 'a""b')).toBe('a"b');
    expect(literalValue('dollar', "it's \\n")).toBe("it's \\n");
    expect(literalValue('single-esc', "tab\\there\\n''\\\\\\101\\x41\\q")).toBe("tab\there\n'\\AAq");
    expect(literalValue('single-esc', '\\u00e9')).toBe(Buffer.from('é', 'utf8').toString('latin1'));
  });
});

describe('LineReader', () => {
  it('hands on whole lines across chunks, without their newline', () => {
    const lines = new LineReader();
    const got: string[] = [];
    const onLine = (l: string) => (got.push(l), false);
    for (const chunk of ['one\ntw', 'o', '\nthree\nfo']) expect(lines.read(b(chunk), 0, onLine)).toBe(chunk.length);
    expect(got).toEqual(['one', 'two', 'three']);
    expect(lines.carrying).toBe(true);
    expect(lines.takeLast()).toBe('fo');
    expect(lines.lineNo).toBe(4);
  });

  it('stops after a line when asked, returning where the next byte is', () => {
    const lines = new LineReader();
    const buf = b('a\nCOPY\ndata\n');
    expect(lines.read(buf, 0, (l) => l === 'COPY')).toBe(7);
    expect(lines.read(buf, 7, () => false)).toBe(buf.length);
  });

  it('drops the CR of a dump whose every newline became CRLF, as its first line shows', () => {
    const crlf = new LineReader();
    const got: string[] = [];
    crlf.read(b('a\r\nb\r\n\r\n'), 0, (l) => (got.push(l), false));
    expect(got).toEqual(['a', 'b', '']);
    expect(crlf.crlf).toBe(true);
    const lf = new LineReader();
    lf.read(b('a\nb\r\n'), 0, (l) => (got.push(l), false));
    expect(got.slice(3)).toEqual(['a', 'b\r']);
  });
});

describe('LineReader, its longest line', () => {
  const tooLong = (max: number, chunks: string[]) => {
    const lines = new LineReader(max);
    const got: string[] = [];
    try {
      for (const chunk of chunks) lines.read(b(chunk), 0, (l) => (got.push(l), false));
    } catch (e) {
      return { got, code: e instanceof RecoverError ? e.code : String(e) };
    }
    return { got, code: undefined };
  };

  it('refuses a line longer than it, in one chunk, carried over chunks, or ended in the chunk after its carried part', () => {
    expect(tooLong(10, ['short\n0123456789\n'])).toEqual({ got: ['short', '0123456789'], code: undefined });
    expect(tooLong(10, ['short\n0123456', '789\n'])).toEqual({ got: ['short', '0123456789'], code: undefined });
    expect(tooLong(10, ['0123456', '789A', 'B\n']).code).toBe('BACKUP_LINE_TOO_LONG');
    // The carried part within the bound, the rest in the next chunk: the whole line is over it.
    expect(tooLong(10, ['0123456789', 'AB\nnext\n'])).toEqual({ got: [], code: 'BACKUP_LINE_TOO_LONG' });
  });
});

describe('StatementReader', () => {
  function read(lines: string[]) {
    const events: string[] = [];
    const reader = new StatementReader({
      meta: (c) => void events.push(`meta ${c}`),
      comment: (t) => void events.push(`comment ${t}`),
      statement: (sql) => (events.push(sql === null ? 'skipped' : `kept ${JSON.stringify(sql)}`), sql?.startsWith('COPY') ?? false),
    });
    for (const l of lines) reader.line(l);
    return { events, reader };
  }

  it('ends statements at a ; outside literals and comments, over lines, keeping only those that may matter', () => {
    const { events } = read([
      "CREATE FUNCTION f() AS $$ SELECT ';'; $$;",
      "SET search_path = '';  SET x = 1; /* ; */",
      'CREATE TABLE public.users (',
      '    id integer -- the ; key',
      ');',
    ]);
    expect(events).toEqual([
      'skipped',
      `kept "SET search_path = '';"`,
      'kept "SET x = 1;"',
      // Each comment is a blank, the one before the statement too.
      `kept " CREATE TABLE public.users (\\n    id integer  \\n);"`,
    ]);
  });

  it('passes meta-command lines and comments at a statement start on as they are', () => {
    const { events } = read(['\\connect buggy_race', '  -- PostgreSQL database dump complete', 'SELECT 1; \\x']);
    expect(events).toEqual(['meta \\connect buggy_race', 'comment -- PostgreSQL database dump complete', 'skipped', 'meta \\x']);
  });

  it('ignores the rest of the line once COPY data follows', () => {
    const { events } = read(['COPY public.users (id) FROM stdin; SET x = 1;']);
    expect(events).toEqual(['kept "COPY public.users (id) FROM stdin;"']);
  });

  it('knows when the input ends inside a statement or a literal', () => {
    expect(read(['SET x = 1;']).reader.unfinished).toBe(false);
    expect(read(['SET x = 1']).reader.unfinished).toBe(true);
    expect(read(["SELECT 'open"]).reader.unfinished).toBe(true);
    expect(read(['-- only a comment']).reader.unfinished).toBe(false);
  });
});

describe('projection', () => {
  it('picks the wanted columns present, in wanted order', () => {
    const p = project('tasks', ['name', 'id', 'problem_text', 'phase']);
    expect(p.names).toEqual(['id', 'phase', 'name']);
    expect(p.identity).toBe(false);
    expect(projectCopyLine(p, 'GET\t1\tlong\\ttext\t0', 7)).toBe('1\t0\tGET');
    expect(project('settings', ['id', 'value']).identity).toBe(true);
  });

  it('drops settings rows but the kept keys, and other students\u2019 texts when asked', () => {
    const settings = project('settings', ['id', 'value']);
    expect(projectCopyLine(settings, 'PROJECT_CODE\tRACE', 1)).toBe('PROJECT_CODE\tRACE');
    expect(projectCopyLine(settings, 'SECRET_KEY\thunter2', 2)).toBeNull();
    const texts = project('tasktexts', ['id', 'user_id', 'task_id', 'text', 'created_at', 'modified_at'], new Set(['42']));
    expect(projectCopyLine(texts, '1\t42\t3\thi\t\\N\t\\N', 3)).toBe('1\t42\t3\thi\t\\N\t\\N');
    expect(projectCopyLine(texts, '2\t7\t3\thi\t\\N\t\\N', 4)).toBeNull();
    expect(project('users', ['id', 'username']).userIndex).toBe(-1);
  });

  it('refuses a row with the wrong number of fields', () => {
    const p = project('tasks', ['name', 'id']);
    expect(() => projectCopyLine(p, 'GET', 9)).toThrow(/line 9 has 1 fields, expected 2/);
  });
});

describe('CopySkipper', () => {
  const DATA = '1\tx\n2\t\\\\.not the end\n\\.x\n\\.\nafter';
  const END = DATA.indexOf('after');

  it('finds the end marker line, however the data is cut', () => {
    for (let cut = 0; cut <= END; cut++) {
      const skipper = new CopySkipper();
      const first = skipper.skip(b(DATA.slice(0, cut)), 0);
      const at = first >= 0 ? first : cut + skipper.skip(b(DATA.slice(cut)), 0);
      expect(at, `cut at ${cut}`).toBe(END);
    }
  });

  it('takes an end marker with CR LF, and a marker at the very start', () => {
    expect(new CopySkipper().skip(b('a\r\n\\.\r\nnext'), 0)).toBe(7);
    expect(new CopySkipper().skip(b('\\.\nnext'), 0)).toBe(3);
    expect(new CopySkipper().skip(b('a\n\\.\tb\n'), 0)).toBe(-1);
  });
});

describe('readTextsOf', () => {
  it('hands on only the lines of the authors asked for, then the end marker', () => {
    const lines = new LineReader();
    const got: string[] = [];
    const buf = b('1\t42\thi\n2\t7\tno\n3\t42\tyes\n\\.\nSET x = 1;\n');
    const at = readTextsOf(buf, 0, 1, new Set(['42']), lines, (l) => void got.push(l));
    expect(got).toEqual(['1\t42\thi', '3\t42\tyes', '\\.']);
    expect(at).toBe(buf.indexOf('SET'));
    expect(lines.lineNo).toBe(4);
  });

  it('carries a line cut by the Buffer end to the line reader', () => {
    const lines = new LineReader();
    expect(readTextsOf(b('1\t42\thi\n2\t4'), 0, 1, new Set(['42']), lines, () => {})).toBe(11);
    expect(lines.takeLast()).toBe('2\t4');
  });

  it('reads one field of a line from the Buffer', () => {
    const buf = b('a\tbb\t\tccc');
    expect([0, 1, 2, 3, 4].map((n) => fieldOf(buf, 0, buf.length, n))).toEqual(['a', 'bb', '', 'ccc', '']);
  });
});

describe('ProjectedRows', () => {
  // users as a race server has it: the bulky latest_json (dropped) between kept columns.
  const source = ['id', 'username', 'latest_json', 'first_name', 'last_name'];
  const data = '1\talice\t{"big":"' + 'x'.repeat(5000) + '"}\tAlice\tSmith\n2\tbob\t\\N\tBob\t\\N\n\\.\nSET x = 1;\n';

  /** Reads `text` cut into pieces of `size` bytes; the rows, whether the end was seen, and where reading stopped in the last piece. */
  function readInPieces(text: string, size: number, crlf = false) {
    const lines = new LineReader();
    lines.crlf = crlf;
    const rows = new ProjectedRows(project('users', source), lines, new TabSearch());
    const got: string[] = [];
    let ended = false;
    let rest = '';
    const buf = b(text);
    for (let at = 0; at < buf.length && !ended; at += size) {
      const piece = buf.subarray(at, at + size);
      const stop = rows.read(piece, 0, (r) => void got.push(r), () => (ended = true));
      if (ended) rest = piece.toString('latin1', stop) + buf.toString('latin1', at + size);
    }
    return { got, ended, rest, lineNo: lines.lineNo };
  }

  it('is used for projections that drop columns and filter no rows', () => {
    expect(projectsInBuffer(project('users', source))).toBe(true);
    expect(projectsInBuffer(project('users', ['id', 'username', 'ext_username', 'first_name', 'last_name', 'is_student', 'is_active', 'created_at', 'email']))).toBe(true);
    expect(projectsInBuffer(project('tasktexts', ['id', 'user_id', 'task_id', 'text'], new Set(['1'])))).toBe(false);
    expect(projectsInBuffer(project('settings', ['id', 'value']))).toBe(false);
  });

  it('gives the line reader\'s rows, whatever the pieces the data comes in, and stops after the end marker', () => {
    const p = project('users', source);
    const expected = data.split('\n').slice(0, 2).map((l) => projectCopyLine(p, l, 0));
    for (const size of [1, 2, 3, 7, 64, 4999, 5003, 100_000]) {
      const r = readInPieces(data, size);
      expect(r.got, `pieces of ${size}`).toEqual(expected);
      expect(r.ended).toBe(true);
      expect(r.rest).toBe('SET x = 1;\n');
      expect(r.lineNo).toBe(3);
    }
  });

  it('reads a dump whose newlines are CRLF', () => {
    const p = project('users', source);
    const crlf = data.replace(/\n/g, '\r\n');
    for (const size of [1, 2, 5, 1000]) {
      const r = readInPieces(crlf, size, true);
      expect(r.got, `pieces of ${size}`).toEqual(data.split('\n').slice(0, 2).map((l) => projectCopyLine(p, l, 0)));
      expect(r.rest).toBe('SET x = 1;\r\n');
    }
  });

  it('refuses a row with the wrong number of fields, naming its line', () => {
    for (const bad of ['1\talice\t{}\tAlice\n', '1\talice\t{}\tAlice\tSmith\textra\n']) {
      const lines = new LineReader();
      lines.lineNo = 40;
      const rows = new ProjectedRows(project('users', source), lines, new TabSearch());
      expect(() => rows.read(b(bad), 0, () => {}, () => {})).toThrow(/a row of users at line 41 has [46] fields, expected 5/);
    }
  });

  it('refuses a row whose kept fields together are longer than any line of a dump may be, however many pieces they come in; a dropped field may be any length', () => {
    const lines = new LineReader();
    const rows = new ProjectedRows(project('users', source), lines, new TabSearch(), 100);
    const got: string[] = [];
    rows.read(b('1\ta\t' + 'j'.repeat(1000)), 0, () => {}, () => {});
    rows.read(b('j'.repeat(1000) + '\tA\tB\n'), 0, (r) => void got.push(r), () => {});
    expect(got).toEqual(['1\ta\tA\tB']);
    // Three kept fields of 40 bytes: none too long alone, 123 bytes with their tabs.
    const forty = 'u'.repeat(40);
    rows.read(b(`2\t${forty.slice(0, 20)}`), 0, () => {}, () => {});
    expect(() => rows.read(b(`${forty.slice(20)}\t{}\t${forty}\t${forty}\n`), 0, () => {}, () => {})).toThrow(/a row of users at line 2 of the backup keeps more than 100 bytes/);
  });

  it('knows a last line that is the end marker without its newline', () => {
    const rows = new ProjectedRows(project('users', source), new LineReader(), new TabSearch());
    expect(rows.read(b('1\ta\t{}\tA\tB\n\\.'), 0, () => {}, () => {})).toBe(13);
    expect(rows.takeLast()).toBe(true);
    const cut = new ProjectedRows(project('users', source), new LineReader(), new TabSearch());
    cut.read(b('1\ta\t{}'), 0, () => {}, () => {});
    expect(cut.takeLast()).toBe(false);
    const none = new ProjectedRows(project('users', source), new LineReader(), new TabSearch());
    none.read(b('1\ta\t{}\tA\tB\n'), 0, () => {}, () => {});
    expect(none.takeLast()).toBe(false);
  });
});

function collect(): { events: FilterEvent[]; stats: FilterStats; batches: RowBatches } {
  const events: FilterEvent[] = [];
  const stats = { rowsKept: 0 } as FilterStats;
  return { events, stats, batches: new RowBatches((e) => events.push(e), stats) };
}

describe('InsertRows', () => {
  it('puts consecutive INSERTs with the same columns in one block of COPY rows', () => {
    const { events, batches } = collect();
    const inserts = new InsertRows(batches, undefined);
    inserts.add('users', ['id', 'username'], [['1', 'a\tb']], 1);
    inserts.add('users', ['id', 'username'], [['2', null]], 2);
    inserts.add('users', ['username', 'id'], [['c', '3']], 3);
    inserts.close();
    expect(events.map((e) => e.type)).toEqual(['begin', 'rows', 'end', 'begin', 'rows', 'end']);
    expect(events[1]).toMatchObject({ data: '1\ta\\tb\n2\t\\N\n', count: 2 });
    expect(events[4]).toMatchObject({ data: '3\tc\n' });
  });

  it('keeps only the texts of the authors asked for, and refuses a row of the wrong width', () => {
    const { events, batches } = collect();
    const inserts = new InsertRows(batches, new Set(['42']));
    inserts.add('notes', ['id', 'user_id'], [['1', '42'], ['2', '7']], 1);
    inserts.close();
    expect(events[1]).toMatchObject({ data: '1\t42\n', count: 1 });
    expect(() => inserts.add('notes', ['id', 'user_id'], [['1']], 5)).toThrow(RecoverError);
  });

  it('writes values as COPY text', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
  });
});

describe('RowBatches', () => {
  it('hands rows on in batches of about 64 KiB between begin and end, counting them', () => {
    const { events, stats, batches } = collect();
    batches.begin('tasks', ['id']);
    const row = 'x'.repeat(1023);
    for (let k = 0; k < 100; k++) batches.add(row);
    batches.end();
    const rows = events.filter((e) => e.type === 'rows');
    expect(rows.map((e) => e.count)).toEqual([64, 36]);
    expect(rows.map((e) => e.data).join('')).toBe((row + '\n').repeat(100));
    expect(events.at(-1)).toEqual({ type: 'end', table: 'tasks' });
    expect(stats.rowsKept).toBe(100);
  });
});
