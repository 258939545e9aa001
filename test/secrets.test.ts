/**
 * No password hash, token, API key, secret setting or email of any fixture
 * ever appears in what the tool prints or writes: every command and format,
 * the --json variants, and failing runs with --debug (stack traces and causes
 * included) are searched for every secret the fixture manifests list. And
 * exports are private: files 0600, folders 0700.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FORMATS } from '../src/export/index.js';
import { FIXTURES, makeTmp, removeTmp, runCli, type CliResult } from './helpers.js';

const GEN = join(FIXTURES, 'generated');
const STORY = join(FIXTURES, 'story');

/** Every secret of every fixture; values under 6 characters (a setting of '0') would match anything. */
const SECRETS: string[] = (() => {
  const lists: string[][] = [];
  for (const file of [join(GEN, 'manifest.json'), join(FIXTURES, 'demo', 'manifest.json'), join(FIXTURES, 'encodings', 'manifest.json')]) {
    for (const db of JSON.parse(readFileSync(file, 'utf8')).databases) lists.push(db.secrets);
  }
  lists.push(JSON.parse(readFileSync(join(STORY, 'expected.json'), 'utf8')).secrets);
  return [...new Set(lists.flat())].filter((s) => s.length >= 6);
})();
/** The fixtures' email addresses (the generated manifests do not list them): their domains. */
const EMAIL_DOMAINS = ['@students.example.ac.uk', '@example.ac.uk', '@uni.example.ac.uk'];

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('secrets-tmp');
  work = makeTmp('secrets-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

/** Every file under a path, with its text. */
function filesUnder(path: string): { path: string; text: string }[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [{ path, text: readFileSync(path, 'latin1') + '\n' + readFileSync(path, 'utf8') }];
  return readdirSync(path).flatMap((n) => filesUnder(join(path, n)));
}

/** Files 0600, folders 0700, all the way down. */
function expectPrivate(path: string): void {
  const st = statSync(path);
  expect((st.mode & 0o777).toString(8), path).toBe(st.isDirectory() ? '700' : '600');
  if (st.isDirectory()) for (const n of readdirSync(path)) expectPrivate(join(path, n));
}

function expectNoSecrets(what: string, r: CliResult, outputs: string[] = []): void {
  const places = [
    { path: 'stdout', text: r.stdout },
    { path: 'stderr', text: r.stderr },
    ...outputs.flatMap(filesUnder),
  ];
  for (const p of places) {
    for (const s of [...SECRETS, ...EMAIL_DOMAINS]) {
      if (p.text.includes(s)) throw new Error(`${what}: ${p.path} holds the secret ${JSON.stringify(s.slice(0, 12))}...`);
    }
  }
}

let n = 0;
const out = (name: string) => join(work, `${n++}-${name}`);

describe('secrets never leave the backup', () => {
  it('the manifests give secrets to look for', () => {
    expect(SECRETS.length).toBeGreaterThan(100);
    expect(SECRETS.some((s) => s.startsWith('$2b$'))).toBe(true); // bcrypt hashes
    expect(SECRETS.some((s) => s.startsWith('gho_'))).toBe(true); // GitHub tokens
    expect(SECRETS.some((s) => s.startsWith('\\x'))).toBe(true); // bytea hex of the hashes
    // and the search finds one where there is one
    expect(() => expectNoSecrets('self-test', { code: 0, stdout: `{"x": "${SECRETS[7]}"}`, stderr: '' })).toThrow(/holds the secret/);
    expect(() => expectNoSecrets('self-test', { code: 0, stdout: '', stderr: 'mail bob@students.example.ac.uk' })).toThrow(/holds the secret/);
  });

  it('export in every format, users and inspect (plain and --json), on every kind of backup', async () => {
    const current = join(GEN, 'current', 'plain.sql');
    for (const format of EXPORT_FORMATS) {
      for (const user of ['bob', 'dmitri']) {
        const target = out(`${user}-${format}`);
        const r = await runCli(['export', current, '-u', user, '--format', format, '--out', target], { tmp });
        expect(r.code, r.stderr).toBe(0);
        expectNoSecrets(`export ${format}`, r, [target]);
        expectPrivate(target);
      }
      if (format !== 'files') {
        const r = await runCli(['export', current, '-u', 'Carol.Jones', '--format', format], { tmp });
        expect(r.code, r.stderr).toBe(0);
        expectNoSecrets(`export ${format} to stdout`, r);
      }
    }
    const runs: string[][] = [
      ['users', current],
      ['users', current, '--json'],
      ['inspect', current],
      ['inspect', current, '--json'],
      ['inspect', join(GEN, 'current', 'custom.dump'), '--json'],
      ['export', join(GEN, 'current', 'custom.dump'), '-u', 'eve'],
      ['export', join(GEN, 'current', 'inserts.sql'), '-u', 'hana', '--format', 'csv'],
      ['users', join(GEN, 'legacy', 'plain.sql.gz'), '--json'],
      ['export', join(GEN, 'legacy', 'column-inserts.sql'), '-u', 'bob'],
      ['export', join(GEN, 'mid2023', 'custom.dump'), '-u', 'tina', '--format', 'csv'],
      ['export', join(GEN, 'hostile', 'plain.sql'), '-u', 'bob'],
      ['users', join(FIXTURES, 'encodings', 'sqlascii', 'plain.sql')],
      ['export', join(FIXTURES, 'encodings', 'latin1', 'custom.dump'), '-u', 'zoe'],
    ];
    for (const args of runs) {
      const r = await runCli(args, { tmp });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expectNoSecrets(args.join(' '), r);
    }
  });

  it('export-all and history (files, JSON and the HTML report)', async () => {
    const all = out('all');
    let r = await runCli(['export-all', join(FIXTURES, 'demo', 'buggy_race_bk_20260315.sql.gz'), '--out', all], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets('export-all', r, [all]);
    expectPrivate(all);
    const allFiles = out('all-files');
    r = await runCli(['export-all', join(GEN, 'current', 'plain.sql.gz'), '--out', allFiles, '--format', 'files'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets('export-all --format files', r, [allFiles]);
    expectPrivate(allFiles);

    const nights = readdirSync(STORY).filter((f) => f.startsWith('buggy_race_bk_')).map((f) => join(STORY, f));
    const html = out('alice.html');
    r = await runCli(['history', '--user', 'alice', ...nights, '--diff', '--html', html], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets('history --html', r, [html]);
    expectPrivate(html);
    r = await runCli(['history', '--user', 'alice', ...nights, '--json'], { tmp });
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets('history --json', r);
  });

  it('failing runs with --debug: messages, hints, stack traces and causes', async () => {
    const plain = readFileSync(join(GEN, 'current', 'plain.sql'));
    const usersData = plain.indexOf('COPY public.users');
    const mk = (name: string, bytes: Buffer) => {
      const p = out(name);
      writeFileSync(p, bytes);
      return p;
    };
    // A users row with one field too few: its password hash and token are on that line.
    const rowStart = plain.indexOf('\n', usersData) + 1;
    const firstTab = plain.indexOf('\t', rowStart);
    const badRow = Buffer.concat([plain.subarray(0, firstTab), plain.subarray(plain.indexOf('\t', firstTab + 1))]);
    const inserts = readFileSync(join(GEN, 'current', 'inserts.sql'), 'latin1');
    const custom = readFileSync(join(GEN, 'current', 'custom.dump'));
    mkdirSync(join(work, 'not-a-dir-parent'), { recursive: true });
    const failing: [string[], number][] = [
      [['export', join(GEN, 'current', 'plain.sql'), '-u', 'nobody-here'], 12],
      [['export', mk('cut-users.sql', plain.subarray(0, usersData + 2000)), '-u', 'bob'], 10],
      [['export', mk('bad-row.sql', badRow), '-u', 'bob'], 10],
      [['export', mk('expr.sql', Buffer.from(inserts.replace('INSERT INTO public.users VALUES (', 'INSERT INTO public.users VALUES (now(), '), 'latin1')), '-u', 'bob'], 3],
      [['export', mk('cut.dump', custom.subarray(0, custom.length - 100)), '-u', 'bob'], 10],
      [['export', mk('cut.sql.gz', readFileSync(join(GEN, 'current', 'plain.sql.gz')).subarray(0, 15000)), '-u', 'bob'], 10],
      [['export', join(FIXTURES, 'encodings', 'sqlascii', 'plain.sql'), '-u', 'latin'], 8],
      [['export', join(GEN, 'current', 'plain.sql'), '-u', 'bob', '--timezone', 'Mars/Olympus'], 2],
      [['export', join(GEN, 'current', 'plain.sql'), '-u', 'bob', '--out', join(work, 'no', 'such', 'dir.json')], 7],
      [['users', join(FIXTURES, 'encodings', 'sqlascii', 'custom.dump'), '--json', '--pg-restore', '/nonexistent/pg_restore'], 2],
    ];
    for (const [args, code] of failing) {
      const r = await runCli([...args, '--debug'], { tmp });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(/\n\s+at .+:\d+:\d+/); // --debug did show the detail
      expectNoSecrets(`${args.join(' ')} --debug`, r);
    }
  });
});
