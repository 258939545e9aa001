/**
 * Random race-server-like plain dumps for property tests (fast-check), and a
 * decoder for the COPY text the filter emits.
 *
 * A model (users, tasks, texts, settings, an unwanted table) is written out
 * the ways pg_dump writes it: COPY blocks, --inserts / --column-inserts with
 * standard strings, E'' / standard_conforming_strings=off literals with
 * random backslash escapes (as older pg_dumps and hand edits have them), and
 * every newline turned into CRLF (docker exec -t). Dumps are "binary strings"
 * (one char per byte), as the filter reads them.
 */
import fc from 'fast-check';
import { KEPT_SETTINGS, WANTED_COLUMNS, type WantedTable } from '../src/filter/index.js';

export type Value = string | null;
type Row = Record<string, Value>;

export interface Table {
  name: string;
  /** Column order in the dump (CREATE TABLE and COPY). */
  columns: string[];
  /** Column types for CREATE TABLE (all that matters: bool and int are unquoted in INSERTs). */
  types: Record<string, 'int' | 'bool' | 'text' | 'ts'>;
  rows: Row[];
}

export interface DumpModel {
  tables: Table[];
  textsTable: 'tasktexts' | 'notes';
}

type Style = 'copy' | 'inserts' | 'column-inserts' | 'escaped-inserts';

export interface DumpOptions {
  style: Style;
  crlf: boolean;
  restrict: boolean;
  /** INSERT rows per statement (pg_dump --rows-per-insert). */
  rowsPerInsert: number;
  /** escaped-inserts: standard_conforming_strings off (plain '' literals take escapes too). */
  standardStrings: boolean;
  /** Random choices for escapes, one per use (cycled). */
  escapeChoices: number[];
}

/** Pieces that matter to a dump reader, mixed into random Unicode. */
const NASTY = [
  '\\', '\\\\', '\\.', '\n\\.\n', '\\.\n', '\\N', 'NULL', '\r', '\n', '\r\n', '\t', "'", "''", '"', '$$', '$tag$', ';', '--', '/*', '*/',
  "E'", '\\x41', '\\101', '\\u00e9', 'COPY public.tasktexts (id, text) FROM stdin;', '\n\\.', '\f', '\b', '\v', '\x01', '\x1b', '\x7f',
  'é', '€', '😀', '👨‍👩‍👧', '\u2028', '\ufeff', '\u00a0', 'ñ', '𝔘', ' ',
];

/**
 * Values that, at the start of a COPY data line of a skipped table, look like
 * (the start of) its end marker `\.`, or like a wanted table's COPY, to the
 * filter's skip path.
 */
const MARKER_LOOKALIKES = ['\\.', '\\', '.', '\\.\r', '\\.\n', '\n\\.\n', 'COPY public.users (id) FROM stdin;', '\r\n\\.\r\n', ''];

/** Any Unicode text (no NUL, which PostgreSQL text cannot hold), heavy on the nasty pieces. */
const textArb: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NASTY) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) }), { maxLength: 14 })
  .map((parts) => parts.join('').replace(/\0/g, ''));

const identArb = fc.stringMatching(/^[a-z][a-z0-9_.]{0,11}$/);
const tsArb = fc
  .record({ d: fc.integer({ min: 0, max: 2000 }), ms: fc.integer({ min: 0, max: 86_399_999 }), us: fc.integer({ min: 0, max: 999 }), tz: fc.boolean() })
  .map(({ d, ms, us, tz }) => {
    const t = new Date(Date.UTC(2023, 0, 1) + d * 86_400_000 + ms);
    const iso = t.toISOString().replace('T', ' ').replace('Z', '');
    return `${iso}${String(us).padStart(3, '0')}`.replace(/\.?0+$/, '') + (tz ? '+00' : '');
  });

function shuffled<T>(xs: readonly T[], keys: number[]): T[] {
  return xs
    .map((x, i) => ({ x, k: keys[i % Math.max(1, keys.length)]! + i / 1000 }))
    .sort((a, b) => a.k - b.k)
    .map((p) => p.x);
}

/** A random race server database (as a model). */
export const modelArb: fc.Arbitrary<DumpModel> = fc
  .record({
    usernames: fc.uniqueArray(identArb, { minLength: 1, maxLength: 4 }),
    names: fc.array(textArb, { minLength: 8, maxLength: 8 }),
    taskNames: fc.uniqueArray(fc.stringMatching(/^[A-Z]{2,8}$/), { minLength: 1, maxLength: 4 }),
    texts: fc.array(fc.record({ u: fc.nat(), t: fc.nat(), text: fc.oneof(textArb, fc.constantFrom('', '\\N', '\\.', '\r\n', 'NULL')), created: tsArb, modified: fc.option(tsArb) }), { maxLength: 8 }),
    junk: fc.array(fc.oneof(textArb, fc.constantFrom(...MARKER_LOOKALIKES)), { maxLength: 6 }),
    secret: fc.stringMatching(/^[A-Za-z0-9]{12}$/),
    project: textArb,
    order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
    textsTable: fc.constantFrom('tasktexts' as const, 'notes' as const),
  })
  .map((m): DumpModel => {
    const users: Table = {
      name: 'users',
      columns: shuffled(['id', 'username', 'email', 'password', 'ext_username', 'first_name', 'last_name', 'is_student', 'is_active', 'created_at', 'api_key'], m.order),
      types: { id: 'int', is_student: 'bool', is_active: 'bool', created_at: 'ts' },
      rows: m.usernames.map((username, i) => ({
        id: String(i + 1),
        username,
        email: `${username}@example.org`,
        password: '\\x2432622431322453',
        ext_username: i % 2 ? null : `u${1000 + i}`,
        first_name: m.names[i % 8]!,
        last_name: m.names[(i + 3) % 8]!,
        is_student: i % 3 ? 't' : 'f',
        is_active: 't',
        created_at: '2023-09-01 10:00:00+00',
        api_key: `key-${m.secret}`,
      })),
    };
    const tasks: Table = {
      name: 'tasks',
      columns: shuffled(['id', 'phase', 'name', 'title', 'problem_text', 'is_enabled', 'sort_position'], m.order.slice(3)),
      types: { id: 'int', phase: 'int', is_enabled: 'bool', sort_position: 'int' },
      rows: m.taskNames.map((name, i) => ({
        id: String(i + 1),
        phase: String(i % 3),
        name,
        title: m.names[(i + 5) % 8]!,
        problem_text: m.names[i % 8]!,
        is_enabled: i % 4 === 3 ? 'f' : 't',
        sort_position: String(10 * i),
      })),
    };
    const texts: Table = {
      name: m.textsTable,
      columns: shuffled(['id', 'user_id', 'task_id', 'text', 'created_at', 'modified_at'], m.order.slice(6)),
      types: { id: 'int', user_id: 'int', task_id: 'int', created_at: 'ts', modified_at: 'ts' },
      rows: m.texts.map((t, i) => ({
        id: String(100 + i),
        user_id: String((t.u % m.usernames.length) + 1),
        task_id: String((t.t % m.taskNames.length) + 1),
        text: t.text,
        created_at: t.created,
        modified_at: t.modified,
      })),
    };
    const settings: Table = {
      name: 'settings',
      columns: ['id', 'value'],
      types: {},
      rows: [
        { id: 'SECRET_KEY', value: m.secret },
        { id: 'PROJECT_CODE', value: m.project },
        { id: 'AUTHORISATION_CODE', value: `auth-${m.secret}` },
      ],
    };
    const races: Table = { name: 'races', columns: ['id', 'title', 'desc'], types: { id: 'int' }, rows: m.junk.map((j, i) => ({ id: String(i + 1), title: j, desc: j + j })) };
    const alembic: Table = { name: 'alembic_version', columns: ['version_num'], types: {}, rows: [{ version_num: 'da24495f7e73' }] };
    // Skipped, and its lines start with arbitrary text: the skip path must find only the real end marker.
    const announcements: Table = { name: 'announcements', columns: ['text', 'id'], types: { id: 'int' }, rows: m.junk.map((j, i) => ({ text: j, id: String(i + 1) })) };
    return { tables: [announcements, alembic, races, settings, tasks, texts, users], textsTable: m.textsTable };
  });

export const optionsArb: fc.Arbitrary<DumpOptions> = fc.record({
  style: fc.constantFrom<Style>('copy', 'inserts', 'column-inserts', 'escaped-inserts'),
  crlf: fc.boolean(),
  restrict: fc.boolean(),
  rowsPerInsert: fc.integer({ min: 1, max: 3 }),
  standardStrings: fc.boolean(),
  escapeChoices: fc.array(fc.nat(99), { minLength: 1, maxLength: 64 }),
});

/** Cut points for feeding a dump in chunks. */
export const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 24 });

export function chunk(s: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * s.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(s.slice(prev, p));
    prev = p;
  }
  out.push(s.slice(prev));
  return out;
}

const bin = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** A value in COPY text format (PostgreSQL copyto.c CopyAttributeOutText). */
function copyText(v: Value): string {
  if (v === null) return '\\N';
  const map: Record<string, string> = { '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
  return bin(v.replace(/[\\\b\f\n\r\t\v]/g, (c) => map[c]!));
}

/** An E'' (or standard_conforming_strings=off '') literal with random, valid backslash escapes. */
function escapedLiteral(v: string, prefix: string, pick: () => number): string {
  let out = prefix + "'";
  for (const ch of v) {
    const r = pick();
    const cp = ch.codePointAt(0)!;
    const utf8 = Buffer.from(ch, 'utf8');
    if (ch === "'") out += r % 2 ? "''" : "\\'";
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += r % 2 ? '\n' : '\\n';
    else if (ch === '\r') out += r % 2 ? '\r' : '\\r';
    else if (ch === '\t') out += r % 2 ? '\t' : '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (r % 5 === 0) out += [...utf8].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
    else if (r % 5 === 1) out += [...utf8].map((b) => '\\' + b.toString(8).padStart(3, '0')).join('');
    else if (r % 5 === 2 && cp > 0x7f) out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
    else if (r % 5 === 3 && /[a-zA-Z]/.test(ch) && !'bfnrtxuU01234567'.includes(ch)) out += '\\' + ch; // \q is q
    else out += bin(ch);
  }
  return out + "'";
}

/** The dump, as a binary string. */
export function writeDump(model: DumpModel, o: DumpOptions): string {
  let k = 0;
  const pick = () => o.escapeChoices[k++ % o.escapeChoices.length]!;
  const std = o.style !== 'escaped-inserts' || o.standardStrings;
  const out: string[] = [];
  const line = (s = '') => out.push(s + '\n');
  line('--');
  line('-- PostgreSQL database dump');
  line('--');
  line();
  if (o.restrict) line('\\restrict Abc123XyZ');
  line();
  line('-- Dumped from database version 15.18');
  line('-- Dumped by pg_dump version 15.18');
  line();
  line('SET statement_timeout = 0;');
  line("SET client_encoding = 'UTF8';");
  line(`SET standard_conforming_strings = ${std ? 'on' : 'off'};`);
  line("SELECT pg_catalog.set_config('search_path', '', false);");
  line();
  line("CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $_$SELECT 'COPY public.users (id) FROM stdin;\n\\.'$_$;");
  for (const t of model.tables) {
    line();
    line(`CREATE TABLE public.${t.name} (`);
    line(t.columns.map((c) => `    ${c === 'desc' ? '"desc"' : c} ${sqlType(t.types[c])}`).join(',\n'));
    line(');');
    line(`ALTER TABLE public.${t.name} OWNER TO buggy;`);
  }
  const cols = (t: Table) => t.columns.map((c) => (c === 'desc' ? '"desc"' : c)).join(', ');
  for (const t of model.tables) {
    line();
    if (o.style === 'copy') {
      line(`COPY public.${t.name} (${cols(t)}) FROM stdin;`);
      for (const r of t.rows) line(t.columns.map((c) => copyText(r[c] ?? null)).join('\t'));
      line('\\.');
      continue;
    }
    const head = `INSERT INTO public.${t.name}${o.style === 'column-inserts' ? ` (${cols(t)})` : ''} VALUES `;
    for (let i = 0; i < t.rows.length; i += o.rowsPerInsert) {
      const rows = t.rows.slice(i, i + o.rowsPerInsert).map((r) => '(' + t.columns.map((c) => literal(r[c] ?? null, t.types[c], o, std, pick)).join(', ') + ')');
      line(head + rows.join(', ') + ';');
    }
  }
  line();
  line('--');
  line('-- PostgreSQL database dump complete');
  line('--');
  line();
  if (o.restrict) line('\\unrestrict Abc123XyZ');
  const dump = out.join('');
  return o.crlf ? dump.replace(/\n/g, '\r\n') : dump;
}

function sqlType(t: Table['types'][string] | undefined): string {
  return t === 'int' ? 'integer' : t === 'bool' ? 'boolean' : t === 'ts' ? 'timestamp with time zone' : 'text';
}

function literal(v: Value, type: Table['types'][string] | undefined, o: DumpOptions, std: boolean, pick: () => number): string {
  if (v === null) return 'NULL';
  if (type === 'int') return v;
  if (type === 'bool') return v === 't' ? 'true' : 'false';
  if (o.style !== 'escaped-inserts') return "'" + bin(v).replace(/'/g, "''") + "'";
  return escapedLiteral(v, std || pick() % 2 ? 'E' : '', pick);
}

/**
 * The filter's output for a wanted table, as the model's rows would look:
 * only the wanted columns, in WANTED_COLUMNS order; settings only the kept keys;
 * booleans as the dump wrote them (COPY t/f, INSERT true/false).
 */
export function expectedRows(model: DumpModel, o: DumpOptions, table: WantedTable): { columns: string[]; rows: Value[][] } {
  const t = model.tables.find((x) => x.name === table);
  // An INSERT dump of an empty table has no statement for it at all.
  if (!t || (o.style !== 'copy' && !t.rows.length)) return { columns: [], rows: [] };
  const columns = (WANTED_COLUMNS[table] as readonly string[]).filter((c) => t.columns.includes(c));
  const rows = t.rows
    .filter((r) => table !== 'settings' || KEPT_SETTINGS.has(r.id ?? ''))
    .map((r) => columns.map((c) => (t.types[c] === 'bool' && o.style !== 'copy' && r[c] !== null ? (r[c] === 't' ? 'true' : 'false') : (r[c] ?? null))));
  return { columns, rows };
}

/**
 * Decode COPY text-format data (binary string, one row per line) the way
 * PostgreSQL's COPY FROM does (copyfromparse.c CopyReadAttributesText):
 * fields split on tab; a field that is exactly \N is NULL; backslash
 * sequences \b \f \n \r \t \v, \digits (octal, 1-3), \xhh (hex, 1-2), and
 * \ before any other character is that character. Values come back as UTF-8.
 */
export function decodeCopy(data: string): Value[][] {
  const rows: Value[][] = [];
  if (data === '') return rows;
  if (!data.endsWith('\n')) throw new Error('COPY data must end with a newline');
  for (const lineText of data.slice(0, -1).split('\n')) {
    if (lineText.includes('\r')) throw new Error(`raw CR in COPY data: ${JSON.stringify(lineText)}`);
    const fields: Value[] = [];
    for (const raw of lineText.split('\t')) {
      if (raw === '\\N') {
        fields.push(null);
        continue;
      }
      let out = '';
      for (let i = 0; i < raw.length; i++) {
        const c = raw[i]!;
        if (c !== '\\') {
          out += c;
          continue;
        }
        const n = raw[++i];
        if (n === undefined) break; // a lone backslash at the end of the field is dropped, as COPY does
        const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
        if (n in simple) out += simple[n];
        else if (/[0-7]/.test(n)) {
          let digits = n;
          while (digits.length < 3 && /[0-7]/.test(raw[i + 1] ?? '')) digits += raw[++i];
          out += String.fromCharCode(parseInt(digits, 8) & 0xff);
        } else if (n === 'x' && /[0-9a-fA-F]/.test(raw[i + 1] ?? '')) {
          let digits = raw[++i]!;
          if (/[0-9a-fA-F]/.test(raw[i + 1] ?? '')) digits += raw[++i];
          out += String.fromCharCode(parseInt(digits, 16));
        } else out += n;
      }
      fields.push(Buffer.from(out, 'latin1').toString('utf8'));
    }
    rows.push(fields);
  }
  return rows;
}
