/**
 * pg_dumpall files in the filter: each `\connect` starts the next database's
 * part, as a `database` event; the line is read (every form pg_dumpall and
 * psql write), never run; a cluster dump is complete only at pg_dumpall's
 * own last line. Any chunking gives the same events.
 */
import { describe, expect, it } from 'vitest';
import { connectTarget } from '../src/filter/connect.js';
import { SqlFilter, type FilterEvent } from '../src/filter/index.js';

function run(chunks: string[]) {
  const events: FilterEvent[] = [];
  const f = new SqlFilter((e) => events.push(e));
  for (const c of chunks) f.push(c);
  f.end();
  const shape = events.map((e) =>
    e.type === 'database' ? `database ${e.name}` : e.type === 'rows' ? `rows ${e.table} ${JSON.stringify(e.data)}` : e.type === 'encoding' ? `encoding ${e.name}` : `${e.type} ${e.table}`,
  );
  return { shape, stats: f.stats };
}

const part = (db: string, userRow: string) => `--
-- PostgreSQL database dump
--

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
CREATE TABLE public.users (id integer NOT NULL, username character varying(80));
COPY public.users (id, username) FROM stdin;
${userRow}
\\.

--
-- PostgreSQL database dump complete
--
`.replace('SET client_encoding', `-- ${db}\nSET client_encoding`);

const CLUSTER = `--
-- PostgreSQL database cluster dump
--

\\restrict k

SET default_transaction_read_only = off;
CREATE ROLE buggy;

\\unrestrict k

\\connect template1

${part('template1', '9\ttemplate')}
CREATE DATABASE buggy_race WITH TEMPLATE = template0;
\\connect buggy_race
${part('buggy_race', '1\tada')}
\\connect -reuse-previous=on "dbname='todo-app'"
${part('todo-app', '1\tada')}
--
-- PostgreSQL database cluster dump complete
--

`;

describe('\\connect lines', () => {
  it.each([
    ['\\connect buggy_race', 'buggy_race'],
    ['\\c buggy_race', 'buggy_race'],
    ['\\connect "MyDb"', 'MyDb'],
    ['\\connect "we""ird"', 'we"ird'],
    [`\\connect -reuse-previous=on "dbname='todo-app'"`, 'todo-app'],
    [`\\connect -reuse-previous=on "dbname='it\\'s \\\\ here'"`, "it's \\ here"],
    [`\\connect -reuse-previous=on "dbname='say ""hi""'"`, 'say "hi"'],
    ['\\connect postgresql://localhost/my%20db', 'my db'],
    ['\\connect buggy_race postgres', 'buggy_race'],
    ['\\connect buggy_race \\restrict k', 'buggy_race'],
  ])('%s names %s', (line, name) => {
    expect(connectTarget(line)).toBe(name);
  });

  it.each(['\\connect - other_user', '\\connect', "\\connect -reuse-previous=on \"host='x'\"", '\\copy users to x', '\\cd /tmp', '\\restrict connect'])(
    '%s switches to no other database',
    (line) => {
      expect(connectTarget(line)).toBeUndefined();
    },
  );
});

describe('a pg_dumpall file in the filter', () => {
  const expected = [
    'encoding UTF8',
    'database template1',
    'encoding UTF8',
    'table users',
    'begin users',
    'rows users "9\\ttemplate\\n"',
    'end users',
    'database buggy_race',
    'encoding UTF8',
    'table users',
    'begin users',
    'rows users "1\\tada\\n"',
    'end users',
    'database todo-app',
    'encoding UTF8',
    'table users',
    'begin users',
    'rows users "1\\tada\\n"',
    'end users',
  ];

  it('emits each database part after its \\connect, and knows a complete cluster dump', () => {
    const r = run([CLUSTER.replace("SET default_transaction_read_only = off;\n", "SET default_transaction_read_only = off;\nSET client_encoding = 'UTF8';\n")]);
    expect(r.shape).toEqual(expected);
    expect(r.stats).toMatchObject({ clusterDump: true, sawDumpHeader: true, sawDumpComplete: true });
  });

  it('gives the same events however the file is cut into chunks', () => {
    const text = CLUSTER.replace("SET default_transaction_read_only = off;\n", "SET default_transaction_read_only = off;\nSET client_encoding = 'UTF8';\n");
    for (let size = 1; size <= 64; size += 7) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(run(chunks).shape).toEqual(expected);
    }
  });

  it('is not complete at its first database\'s "dump complete" line', () => {
    const cut = CLUSTER.slice(0, CLUSTER.indexOf('\\connect buggy_race'));
    expect(run([cut]).stats).toMatchObject({ clusterDump: true, sawDumpHeader: true, sawDumpComplete: false });
  });

  it('is a truncated cluster dump when cut inside its first line', () => {
    expect(run(['--\n-- PostgreSQL database clu']).stats).toMatchObject({ sawDumpHeader: true, clusterDump: true, sawDumpComplete: false });
  });

  it('reads CRLF \\connect lines (docker exec -t)', () => {
    const r = run([CLUSTER.replace(/\n/g, '\r\n')]);
    expect(r.shape.filter((s) => s.startsWith('database'))).toEqual(['database template1', 'database buggy_race', 'database todo-app']);
    expect(r.stats.sawDumpComplete).toBe(true);
  });

  it('forgets the previous database\'s column lists at a \\connect', () => {
    const text = `CREATE TABLE public.users (id integer, username text);\n\\connect other\nCOPY public.users FROM stdin;\n1\tx\n\\.\n`;
    expect(() => run([text])).toThrow(/without a column list and no CREATE TABLE/);
  });
});
