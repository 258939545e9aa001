/**
 * The filter's state machine on hand-made dumps: what it keeps, what it
 * skips, and that any chunking of the input gives the same result.
 */
import { describe, expect, it } from 'vitest';
import { SqlFilter, type FilterEvent, type FilterOptions } from '../src/filter/index.js';
import { RecoverError } from '../src/errors.js';

/** Run the filter over `chunks`; return rows per table and the other events. */
function run(chunks: string[], options: FilterOptions = {}) {
  const events: FilterEvent[] = [];
  const f = new SqlFilter((e) => events.push(e), options);
  for (const c of chunks) f.push(c);
  f.end();
  const rows: Record<string, string> = {};
  const shape: string[] = [];
  for (const e of events) {
    // Rows as bytes (rawTexts) or as a binary string are the same rows.
    if (e.type === 'rows' || e.type === 'bytes') rows[e.table] = (rows[e.table] ?? '') + (typeof e.data === 'string' ? e.data : e.data.toString('latin1'));
    else if (e.type === 'begin') shape.push(`begin ${e.table} ${e.columns.join(',')}`);
    else if (e.type === 'end') shape.push(`end ${e.table}`);
    else if (e.type === 'table') shape.push(`table ${e.table} ${e.columns.map((c) => `${c.name}:${c.type}`).join(',')}`);
    else shape.push(`${e.type} ${e.name}`);
  }
  return { rows, shape, stats: f.stats };
}

const bin = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const DUMP = bin(`--
-- PostgreSQL database dump
--

\\restrict abc123

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $fn$
  SELECT 'COPY public.users (id) FROM stdin;';
$fn$;

/* a block comment; with a semicolon /* nested; */ still comment; */
CREATE TABLE public.tasks (
    id integer NOT NULL,
    phase integer NOT NULL,
    name character varying(16) NOT NULL,
    problem_text text DEFAULT 'x;y'::text,
    is_enabled boolean NOT NULL,
    sort_position integer NOT NULL,
    CONSTRAINT positive CHECK ((phase >= 0))
);

CREATE TABLE public.races (id integer, title text);

COPY public.races (id, title) FROM stdin;
1	CREATE TABLE public.users (id int);
2	\\.x not the end
\\.

COPY public.tasks (id, phase, name, problem_text, is_enabled, sort_position) FROM stdin;
1	0	GET	long; markdown\\nwith lines	t	1
2	3	REPORT	\\N	f	2
\\.

INSERT INTO public.users (id, username, email, password) VALUES (1, 'o''brien', 'ob@example.org', '\\x00');
INSERT INTO "public"."users" ("id", "username", "email", "password") VALUES (2, E'tab\\there', NULL, NULL), (3, 'ünï', 'x', '');
-- a comment with COPY public.users (id) FROM stdin;
INSERT INTO public.settings (id, value) VALUES ('PROJECT_CODE', 'RACE'), ('SECRET_KEY', 'hunter2');
\\unrestrict abc123
--
-- PostgreSQL database dump complete
--
`);

describe('SqlFilter', () => {
  it('keeps the wanted tables, drops everything else, and projects columns', () => {
    const r = run([DUMP]);
    expect(r.shape).toEqual([
      'encoding UTF8',
      'table tasks id:integer,phase:integer,name:character varying(16),problem_text:text,is_enabled:boolean,sort_position:integer',
      'begin tasks id,phase,name,is_enabled,sort_position',
      'end tasks',
      'begin users id,username',
      'end users',
      'begin settings id,value',
      'end settings',
    ]);
    expect(r.rows.tasks).toBe('1\t0\tGET\tt\t1\n2\t3\tREPORT\tf\t2\n');
    // INSERT values become COPY text: quotes undone, tab escaped, UTF-8 bytes kept.
    expect(r.rows.users).toBe(`1\to'brien\n2\ttab\\there\n3\t${bin('ünï')}\n`);
    // Secret settings never leave the filter.
    expect(r.rows.settings).toBe('PROJECT_CODE\tRACE\n');
    expect(r.stats.metaCommands).toBe(2);
    expect(r.stats.copyBlocksSkipped).toBe(1);
    expect(r.stats.sawDumpHeader && r.stats.sawDumpComplete).toBe(true);
  });

  it('gives the same result however the input is chunked', () => {
    const whole = run([DUMP]);
    for (let cut = 1; cut < DUMP.length; cut++) {
      expect(run([DUMP.slice(0, cut), DUMP.slice(cut)])).toEqual(whole);
    }
    // byte-at-a-time, the worst case
    expect(run([...DUMP])).toEqual(whole);
  });

  it('reads a dump whose every newline became CRLF exactly as the LF one', () => {
    const crlf = DUMP.replace(/\n/g, '\r\n');
    const lf = run([DUMP]);
    expect(run([crlf])).toEqual(lf);
    for (let cut = 1; cut < crlf.length; cut += 7) expect(run([crlf.slice(0, cut), crlf.slice(cut)])).toEqual(lf);
  });

  it('skips unwanted COPY data up to its real end marker only, split at every byte, LF and CRLF', () => {
    // Lines of skipped tables that look like the end marker `\\.` or like wanted data, at the
    // start of a block, of a line, and of a chunk. Raw `\\.x` lines are not valid COPY text;
    // the skip path must pass them all the same.
    const dump = [
      'COPY public.empty (id) FROM stdin;',
      '\\.',
      'COPY public.races (title, id) FROM stdin;',
      '\\.x\t1',
      '\\\\.\t2',
      '\\',
      '\\.\t3',
      'x\\.',
      '',
      '\\N\t4',
      'COPY public.users (id, username) FROM stdin;',
      '7\teve',
      '\\.\\.',
      '\\.',
      'COPY public.db_files (contents) FROM stdin;',
      '\\.',
      'COPY public.users (id, username) FROM stdin;',
      '8\tbob',
      '\\.',
      'COPY public.announcements (text) FROM stdin;',
      '\\',
      '\\.',
      '',
    ].join('\n');
    const want = { rows: { users: '8\tbob\n' }, shape: ['begin users id,username', 'end users'] };
    for (const text of [dump, dump.replace(/\n/g, '\r\n')]) {
      const whole = run([text]);
      expect({ rows: whole.rows, shape: whole.shape }).toEqual(want);
      expect(whole.stats.copyBlocksSkipped).toBe(4);
      for (let cut = 1; cut < text.length; cut++) expect(run([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
      for (let cut = 1; cut + 3 < text.length; cut++) expect(run([text.slice(0, cut), text.slice(cut, cut + 3), text.slice(cut + 3)])).toEqual(whole);
      expect(run([...text])).toEqual(whole);
    }
  });

  it('reads a long kept line fed in small chunks exactly as in one piece', () => {
    // A users row with a 300 kB field, as archives hand over their data in small inflated pieces.
    const dump = `COPY public.users (id, latest_json, username) FROM stdin;\n1\t${'{"k": 1}'.repeat(40_000)}\talice\n2\t\\N\tbob\n\\.\n`;
    const whole = run([dump]);
    expect(whole.rows.users).toBe('1\talice\n2\tbob\n');
    for (const size of [1, 1000, 4096, 65_537]) {
      const pieces: string[] = [];
      for (let k = 0; k < dump.length; k += size) pieces.push(dump.slice(k, k + size));
      expect(run(pieces)).toEqual(whole);
    }
  });

  it('keeps only the texts of the users asked for (textsOf), COPY and INSERT, split at every byte, LF and CRLF', () => {
    const dump = [
      'COPY public.tasktexts (id, user_id, task_id, text) FROM stdin;',
      '1\t2\t1\tkeep me',
      '2\t3\t1\tnot me \\.',
      '3\t2\t2\ttwo\\nlines\tand a tab',
      '4\t22\t1\tnot 22, nor 2',
      '5\t\\N\t1\tno user',
      '6',
      '\\.',
      "INSERT INTO public.notes (id, user_id, task_id, text) VALUES (7, 2, 1, 'old'), (8, 3, 1, 'x');",
      'COPY public.users (id, username) FROM stdin;',
      '2\tbob',
      '3\teve',
      '\\.',
      '',
    ].join('\n');
    const textsOf = new Set(['2']);
    const all = run([dump]);
    expect(all.rows.tasktexts!.split('\n').filter(Boolean)).toHaveLength(6);
    for (const text of [dump, dump.replace(/\n/g, '\r\n')]) {
      const whole = run([text], { textsOf });
      // Texts of user 2 only (COPY and INSERT alike); every other table whole.
      expect(whole.rows).toEqual({ tasktexts: '1\t2\t1\tkeep me\n3\t2\t2\ttwo\\nlines\tand a tab\n', notes: '7\t2\t1\told\n', users: '2\tbob\n3\teve\n' });
      expect(whole.shape).toEqual(all.shape);
      for (let cut = 1; cut < text.length; cut++) expect(run([text.slice(0, cut), text.slice(cut)], { textsOf })).toEqual(whole);
      for (let cut = 1; cut + 3 < text.length; cut++) expect(run([text.slice(0, cut), text.slice(cut, cut + 3), text.slice(cut + 3)], { textsOf })).toEqual(whole);
      expect(run([...text], { textsOf })).toEqual(whole);
    }
  });

  it('with rawTexts, keeps a texts table whose every column is wanted as the dump has it, in its column order, split at every byte', () => {
    const dump = [
      'COPY public.tasktexts (id, created_at, modified_at, user_id, task_id, text) FROM stdin;',
      '1\t2026-03-01\t\\N\t2\t1\tkeep me',
      '2\t2026-03-01\t2026-03-02\t3\t1\t\\.x not the end, nor \\.',
      '3\t2026-03-01\t\\N\t2\t2\ttwo\\nlines',
      '\\.',
      'COPY public.notes (id, user_id, task_id, text, secret) FROM stdin;',
      '7\t2\t1\told\thunter2',
      '\\.',
      'COPY public.users (id, username) FROM stdin;',
      '2\tbob',
      '\\.',
      '',
    ].join('\n');
    const rows = dump.split('\n').slice(1, 4).join('\n') + '\n';
    const whole = run([dump], { rawTexts: true });
    expect(whole.shape).toEqual(['begin tasktexts id,created_at,modified_at,user_id,task_id,text', 'end tasktexts', 'begin notes id,user_id,task_id,text', 'end notes', 'begin users id,username', 'end users']);
    // The texts table's lines as they are; a table with a column not wanted (notes' secret) projected as ever.
    expect(whole.rows).toEqual({ tasktexts: rows, notes: '7\t2\t1\told\n', users: '2\tbob\n' });
    expect(whole.stats.rowsKept).toBe(5);
    for (let cut = 1; cut < dump.length; cut++) expect(run([dump.slice(0, cut), dump.slice(cut)], { rawTexts: true })).toEqual(whole);
    expect(run([...dump], { rawTexts: true })).toEqual(whole);
    // A CRLF dump's rows are read line by line, as without rawTexts.
    const crlf = dump.replace(/\n/g, '\r\n');
    expect(run([crlf], { rawTexts: true })).toEqual(run([crlf]));
    // Cut inside the texts' data: truncated, as ever.
    expect(() => run([dump.slice(0, dump.indexOf('\\.\n'))], { rawTexts: true })).toThrow(/ends inside the data of tasktexts/);
  });

  it("with rawTexts, says where each row's newline is, and hands on views of the chunk only when told the chunks are kept", () => {
    const rows = ['1\t2026-03-01\t\\N\t2\t1\tkeep me', '2\t2026-03-01\t\\N\t3\t1\tand me'];
    const dump = Buffer.from(['COPY public.tasktexts (id, created_at, modified_at, user_id, task_id, text) FROM stdin;', ...rows, '\\.', ''].join('\n'), 'latin1');
    /** The rows' bytes event from `chunk` (`dump` in the first bytes of a memory of `size` bytes of its own), before and after the chunk is written again. */
    const bytesOf = (chunksKept: boolean, size = dump.length) => {
      const events: FilterEvent[] = [];
      const f = new SqlFilter((e) => events.push(e), { rawTexts: true, chunksKept });
      const chunk = Buffer.allocUnsafeSlow(size).subarray(0, dump.length);
      dump.copy(chunk);
      f.push(chunk);
      f.end();
      const bytes = events.filter((e) => e.type === 'bytes');
      expect(bytes).toHaveLength(1);
      const e = bytes[0] as Extract<FilterEvent, { type: 'bytes' }>;
      expect(e.ends).toEqual([rows[0]!.length, rows[0]!.length + 1 + rows[1]!.length]);
      for (const end of e.ends!) expect(e.data[end]).toBe(0x0a);
      const before = e.data.toString('latin1');
      expect(before).toBe(rows.join('\n') + '\n');
      chunk.fill(0x21); // the source's buffer, written again
      return { before, after: e.data.toString('latin1') };
    };
    // Kept: a view, so it changes with the chunk (the source promised it never would).
    const view = bytesOf(true);
    expect(view.after).not.toBe(view.before);
    // Not kept: a copy, whatever happens to the chunk.
    const copy = bytesOf(false);
    expect(copy.after).toBe(copy.before);
    // Kept, but a small part of the memory the chunk is in (a gunzip chunk is a slice of a 1 MiB
    // buffer): a copy, so a few rows never hold a whole buffer in memory.
    const small = bytesOf(true, 1 << 20);
    expect(small.after).toBe(small.before);
  });

  it("reads projected rows right across blocks of one chunk, and from one Buffer handed on again refilled", () => {
    // users with a column not wanted (read in the Buffer): empty blocks (their end marker a row without tabs), rows after them.
    const block = (rows: string[]) => ['COPY public.users (id, username, latest_json) FROM stdin;', ...rows, '\\.'].join('\n') + '\n';
    const dump = block([]).repeat(3) + block(['1\talice\t{}', '2\tbob\t']) + block([]) + block(['3\tcarol\t{"a": 1}']);
    const once = run([dump]);
    expect(once.rows.users).toBe('1\talice\n2\tbob\n3\tcarol\n');
    for (let cut = 1; cut < dump.length; cut += 7) expect(run([dump.slice(0, cut), dump.slice(cut)])).toEqual(once);
    // The same Buffer object, pushed, then refilled with other bytes and pushed again: nothing found in the first is used for the second.
    const first = block(['4\tdave\t{}']);
    const second = block(['5\teve\t{}']).padEnd(first.length, '\n');
    const events: FilterEvent[] = [];
    const f = new SqlFilter((e) => events.push(e));
    const buf = Buffer.from(first, 'latin1');
    f.push(buf);
    buf.write(second, 'latin1');
    f.push(buf);
    const rows = events.filter((e) => e.type === 'rows').map((e) => (e as { data: string }).data).join('');
    expect(rows).toBe('4\tdave\n5\teve\n');
  });

  it('reports a dump that ends inside skipped COPY data, even on a marker cut short, as truncated', () => {
    const dump = 'COPY public.races (id) FROM stdin;\n1\n\\.\n';
    expect(run([dump]).shape).toEqual([]);
    for (const cut of [dump.length - 1, dump.length - 2, dump.length - 3, dump.indexOf('1')]) {
      expect(() => run([dump.slice(0, cut)])).toThrow(/ends inside the data/);
    }
  });

  it('keeps CR and LF inside INSERT string literals of a CRLF dump as they were before the conversion', () => {
    const dump = "CREATE TABLE public.tasktexts (id integer, text text);\nINSERT INTO public.tasktexts VALUES (1, 'a\r\nb\nc');\n";
    const lf = run([dump]).rows.tasktexts;
    expect(lf).toBe('1\ta\\r\\nb\\nc\n');
    expect(run([dump.replace(/\n/g, '\r\n')]).rows.tasktexts).toBe(lf);
  });

  it('never takes COPY of a wanted table to a program, or a query, as data', () => {
    const dump = `COPY public.users TO PROGRAM 'touch /tmp/x';\nCOPY (SELECT 1) TO PROGRAM 'touch /tmp/y';\nCREATE TABLE public.users_evil (id int DEFAULT public.f());\nCOPY public.users (id, username) FROM stdin;\n7\tbob\n\\.\n`;
    const r = run([dump]);
    expect(r.shape).toEqual(['begin users id,username', 'end users']);
    expect(r.rows.users).toBe('7\tbob\n');
    expect(r.stats.statementsSkipped).toBe(3);
  });

  it('uses the CREATE TABLE column order for INSERTs without column names', () => {
    const dump = "CREATE TABLE public.users (id integer, email text, username character varying(80));\nINSERT INTO public.users VALUES (5, 'e@x', 'eve');\n";
    expect(run([dump]).rows.users).toBe('5\teve\n');
  });

  it('refuses INSERTs without column names when the dump has no CREATE TABLE', () => {
    expect(() => run(["INSERT INTO public.users VALUES (5, 'e@x', 'eve');\n"])).toThrow(/without a column list/);
  });

  it('refuses INSERT values that are expressions, which pg_dump never writes', () => {
    expect(() => run(["INSERT INTO public.users (id, username) VALUES (1, public.evil());\n"])).toThrow(RecoverError);
  });

  it('handles backslash strings when standard_conforming_strings is off', () => {
    const dump = "SET standard_conforming_strings = off;\nINSERT INTO public.users (id, username) VALUES (1, 'it\\'s; \\\\ ok');\n";
    expect(run([dump]).rows.users).toBe("1\tit's; \\\\ ok\n");
  });

  it('reports a dump that ends inside COPY data or a statement as truncated', () => {
    const cut = DUMP.indexOf('2\t3\tREPORT');
    expect(() => run([DUMP.slice(0, cut)])).toThrow(/ends inside the data of tasks/);
    const mid = DUMP.indexOf("'ob@example");
    expect(() => run([DUMP.slice(0, mid)])).toThrow(/truncated|middle of a statement/);
    try {
      run([DUMP.slice(0, cut)]);
    } catch (e) {
      expect((e as RecoverError).code).toBe('BACKUP_TRUNCATED');
    }
  });

  it('notices when the dump-complete trailer is missing', () => {
    const end = DUMP.indexOf('--\n-- PostgreSQL database dump complete');
    const r = run([DUMP.slice(0, end)]);
    expect(r.stats.sawDumpHeader).toBe(true);
    expect(r.stats.sawDumpComplete).toBe(false);
  });
});

describe('SqlFilter on smuggling attempts', () => {
  it('reads only column names from a wanted table whose definition runs a function', () => {
    const dump = [
      'CREATE FUNCTION public.evil() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;',
      "CREATE TABLE public.tasktexts (id integer DEFAULT public.evil() CHECK (public.evil() > 0), user_id integer, task_id integer, text text DEFAULT ''::text, CONSTRAINT c CHECK (public.evil() = 1)) WITH (fillfactor = 10);",
      'CREATE TABLE public.users AS SELECT public.evil() AS id;',
      'CREATE TABLE "public"."tasks" ("id" integer, "phase" integer GENERATED ALWAYS AS (public.evil()) STORED);',
      '',
    ].join('\n');
    const r = run([dump]);
    expect(r.shape).toEqual(['table tasktexts id:integer,user_id:integer,task_id:integer,text:text', 'table tasks id:integer,phase:integer']);
    expect(r.rows).toEqual({});
  });

  it('refuses an INSERT that takes its rows from a query', () => {
    expect(() => run(['INSERT INTO public.tasktexts (id) SELECT public.evil();\n'])).toThrow(/source other than VALUES/);
  });
});

describe("a cut-down table's rows, read in the Buffer (users without its latest_json)", () => {
  const HEAD = "--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n";
  const COPY = 'COPY public.users (id, username, latest_json, first_name, last_name) FROM stdin;\n';
  const TAIL = '\n--\n-- PostgreSQL database dump complete\n--\n\n';
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  /** The outcome of `dump` fed whole and a byte at a time: the two must agree. */
  const outcome = (dump: string) => {
    const results = [[dump], dump.split('')].map((chunks) => {
      try {
        return { rows: run(chunks).rows.users ?? '' };
      } catch (e) {
        return { error: (e as RecoverError).code + ': ' + (e as Error).message };
      }
    });
    expect(results[1]).toEqual(results[0]);
    return results[0]!;
  };

  it('in a CRLF dump, a line that only begins like the end marker is a damaged row, not the end', () => {
    const dump = crlf(HEAD + COPY + '1\talice\t{}\tAlice\tSmith\n\\.\rjunk\n3\tc\tx\ty\tz\n\\.\n' + TAIL);
    expect(outcome(dump).error).toMatch(/^BACKUP_BAD_ROW: a row of users at line 8 has 1 fields, expected 5/);
  });

  it('a CRLF dump may end with the end marker and no newline', () => {
    expect(outcome(crlf(HEAD + COPY + '1\ta\t{}\tA\tB\n') + '\\.\r')).toEqual({ rows: '1\ta\tA\tB\n' });
  });

  it('a dump cut inside a row is truncated at the line the row is on', () => {
    expect(outcome(HEAD + COPY + '1\ta\t{}\tA\tB\n3\tc\tx').error).toMatch(/^BACKUP_TRUNCATED: the backup ends inside the data of users \(line 8\)/);
  });

  it('a row with too many fields says how many it has', () => {
    expect(outcome(HEAD + COPY + '\t\t\t\xffaa\t\ta\t\\.\n\\.\n' + TAIL).error).toMatch(/has 7 fields, expected 5/);
    expect(outcome(HEAD + COPY + '1\t2\t3\t4\t5\t6\t7\t8\n\\.\n' + TAIL).error).toMatch(/has 8 fields, expected 5/);
  });
});
