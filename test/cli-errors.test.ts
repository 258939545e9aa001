/**
 * Bad input: each case gets one line naming the problem, a hint, its own
 * non-zero exit code, no stack trace, and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO, expectCleanError, FIXTURES, leftovers, makeTmp, removeTmp, runCli, expectNothingLeft } from './helpers.js';

let tmp: string; // TMPDIR of the runs under test
let work: string; // inputs and outputs
beforeAll(() => {
  tmp = makeTmp('errors-tmp');
  work = makeTmp('errors-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

function file(name: string, content: string | Buffer): string {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
}

/** After every failing run: nothing in TMPDIR, no server process using it. */
const cases: { name: string; args: () => string[]; code: number; message: RegExp }[] = [
  { name: 'a file that is not a backup', args: () => ['export', file('notes.txt', 'Dear admin,\nplease help.\n'), '-u', 'alice'], code: 3, message: /is not a PostgreSQL backup/ },
  { name: 'an empty file', args: () => ['export', file('empty.sql', ''), '-u', 'alice'], code: 10, message: /is empty/ },
  {
    name: 'a truncated gzip',
    args: () => {
      const whole = readFileSync(DEMO);
      return ['export', file('cut.sql.gz', whole.subarray(0, Math.floor(whole.length / 2))), '-u', 'alice'];
    },
    code: 10,
    message: /truncated/,
  },
  {
    name: 'a backup with no race server tables',
    args: () => [
      'export',
      file('other.sql', '--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.races (id integer);\nCOPY public.races (id) FROM stdin;\n1\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n'),
      '-u',
      'alice',
    ],
    code: 11,
    message: /holds no race server tables/,
  },
  { name: 'a missing backup file', args: () => ['export', join(work, 'nope.sql.gz'), '-u', 'alice'], code: 5, message: /no such file/ },
  { name: 'an unknown student', args: () => ['export', DEMO, '-u', 'alise'], code: 12, message: /no user "alise" in this backup; closest: alice/ },
  { name: 'a zstd-compressed backup', args: () => ['export', file('x.sql.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])), '-u', 'alice'], code: 4, message: /zstd-compressed/ },
  {
    name: 'an engine that cannot start',
    args: () => {
      const bin = join(work, 'fake-pg-bin');
      mkdirSync(bin, { recursive: true });
      for (const tool of ['initdb', 'postgres']) {
        writeFileSync(join(bin, tool), '#!/bin/sh\necho "FATAL: this PostgreSQL is broken" >&2\nexit 1\n');
        chmodSync(join(bin, tool), 0o755);
      }
      return ['export', DEMO, '-u', 'alice', '--engine', 'system', '--pg-bin', bin];
    },
    code: 6,
    message: /did not start: .*this PostgreSQL is broken/,
  },
  { name: 'an unwritable output path', args: () => ['export', DEMO, '-u', 'alice', '--out', join(work, 'no-such-dir', 'alice.json')], code: 7, message: /cannot write .*its folder does not exist/ },
  { name: 'an unknown option', args: () => ['export', DEMO, '-u', 'alice', '--colour'], code: 2, message: /unknown option/ },
  { name: 'an unknown time zone (before anything loads)', args: () => ['export', DEMO, '-u', 'alice', '--timezone', 'Mars/Olympus'], code: 2, message: /unknown time zone "Mars\/Olympus"/ },
];

/** The exit code the CLI gave for each case, as run by its test (or by the check that needs it). */
const observed = new Map<string, number>();
async function runCase(c: (typeof cases)[number]) {
  const r = await runCli(c.args(), { tmp });
  observed.set(c.name, r.code);
  return r;
}

describe('bad input', () => {
  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, one line and a hint, nothing left behind`, async () => {
      const r = await runCase(c);
      expect(r.code, r.stderr).toBe(c.code);
      expect(r.stdout).toBe('');
      if (c.code === 2) expect(r.stderr).toMatch(c.message);
      else expect(expectCleanError(r).message).toMatch(c.message);
      expectNothingLeft(tmp);
    });
  }

  it('gives each kind of failure its own exit code (empty and truncated are both "damaged")', async () => {
    // The codes the CLI gave, not the table's: a case not run yet (a filtered run) is run here.
    for (const c of cases) if (!observed.has(c.name)) await runCase(c);
    const codes = cases.map((c) => observed.get(c.name)!);
    expect(new Set(codes).size).toBe(codes.length - 2); // two usage errors, two 'damaged'
    expect(codes.filter((c) => c === 10)).toHaveLength(2);
    expect(codes.every((c) => c > 0)).toBe(true);
  });

  it('an unknown name that is part of a username or real name offers those users first', async () => {
    const r = await runCli(['export', DEMO, '-u', 'Okafor'], { tmp });
    expect(r.code).toBe(12);
    expect(expectCleanError(r).message).toBe('recover-texts: no user "Okafor" in this backup; closest: ben (Ben Okafor), chloe, admin');
    const part = await runCli(['export', DEMO, '-u', 'ALI'], { tmp });
    expect(part.code).toBe(12);
    expect(expectCleanError(part).message).toMatch(/^recover-texts: no user "ALI" in this backup; closest: alice, /);
    expectNothingLeft(tmp);
  });

  it('never overwrites an existing output without --force; --force replaces only what it wrote', async () => {
    const mine = file('mine.json', 'keep me\n');
    const kept = await runCli(['export', DEMO, '-u', 'alice', '--out', mine, '--force'], { tmp });
    expect(kept.code).toBe(7);
    expect(expectCleanError(kept).message).toMatch(/cannot be replaced: it is not a file recover-texts wrote/);
    expect(readFileSync(mine, 'utf8')).toBe('keep me\n');
    const out = join(work, 'alice.json');
    expect((await runCli(['export', DEMO, '-u', 'alice', '--out', out], { tmp })).code).toBe(0);
    const r = await runCli(['export', DEMO, '-u', 'alice', '--out', out], { tmp });
    expect(r.code).toBe(7);
    expect(expectCleanError(r).message).toMatch(/already exists/);
    const forced = await runCli(['export', DEMO, '-u', 'alice', '--out', out, '--force'], { tmp });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))[0].username).toBe('alice');
    expect(leftovers(work).filter((n) => n.endsWith('.partial'))).toEqual([]);
    expectNothingLeft(tmp);
  });

  it('shows a stack trace with --debug', async () => {
    const r = await runCli(['export', join(work, 'nope.sql.gz'), '-u', 'alice', '--debug'], { tmp });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('needs --out for --format files', async () => {
    const r = await runCli(['export', DEMO, '-u', 'alice', '--format', 'files'], { tmp });
    expect(r.code).toBe(2);
    expect(expectCleanError(r).message).toMatch(/needs --out/);
    expect(existsSync(join(work, 'alice'))).toBe(false);
  });
});

describe('a username given without --user', () => {
  const STORY_DIR = join(FIXTURES, 'story');
  const missing = "error: required option '-u, --user <name>' not specified";

  it('export BACKUP alice: exit 2, and the command with --user alice is suggested', async () => {
    const r = await runCli(['export', DEMO, 'alice'], { tmp });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${missing}\n  hint: did you mean: recover-texts export BACKUP --user alice?\n`);
    expectNothingLeft(tmp);
  });

  it('history and merge: the word that is no file is the one suggested, quoted for the shell', async () => {
    const h = await runCli(['history', STORY_DIR, 'Sam Jones'], { tmp });
    expect(h.code).toBe(2);
    expect(h.stderr).toContain(`${missing}\n  hint: did you mean: recover-texts history --user 'Sam Jones' BACKUP...?\n`);
    const m = await runCli(['merge', '--current', DEMO, '--auto', 'alice', STORY_DIR], { tmp });
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(`${missing}\n  hint: did you mean: recover-texts merge --user alice --current CURRENT BACKUP...?\n`);
    expectNothingLeft(tmp);
  });

  it('a bare word that is an existing file is a backup, and a missing backup path is no name: only --user is said to be missing', async () => {
    writeFileSync(join(work, 'alice'), '');
    const existing = await runCli(['history', STORY_DIR, 'alice'], { tmp, cwd: work });
    const path = await runCli(['history', STORY_DIR, 'buggy_race_bk_20260316.sql.gz'], { tmp });
    const none = await runCli(['export', DEMO], { tmp });
    for (const r of [existing, path, none]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${missing}\n`);
      expect(r.stderr).not.toContain('did you mean');
    }
  });

  it('export with --user still takes one backup only', async () => {
    const r = await runCli(['export', DEMO, 'alice', '-u', 'alice'], { tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("too many arguments for 'export'. Expected 1 argument but got 2.");
    expect(r.stdout).toBe('');
  });
});

describe('a finished run exits, whatever a library left running', () => {
  // A timer nobody clears, as testcontainers leaves when the container it waits for has died:
  // without the exit after the run, the process would live as long as the timer.
  const linger = { NODE_OPTIONS: '--import=data:text/javascript,setInterval(()=>{},1000)' };

  it('a run that succeeds exits 0 with its whole output, and one that fails with its own code', async () => {
    const started = Date.now();
    const ok = await runCli(['export', DEMO, '-u', 'alice'], { tmp, env: linger, timeoutMs: 60_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
    const bad = await runCli(['export', DEMO, '-u', 'nobody-here'], { tmp, env: linger, timeoutMs: 60_000 });
    expect(bad.code, bad.stderr).toBe(12);
    expect(Date.now() - started).toBeLessThan(50_000);
    expectNothingLeft(tmp);
  });
});
