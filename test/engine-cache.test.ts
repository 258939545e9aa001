/**
 * The cached data-directory template (engine/template.ts): made private on
 * first use, reused, rebuilt when its stamp differs or its mode is open,
 * bypassed when someone else owns it, never holding backup data or a secret, and
 * untouched by --no-cache. Real exports through the embedded PostgreSQL.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearCache, listCache, UNUSED_TEMPLATE_MS } from '../src/engine/index.js';
import { copyFromTemplate } from '../src/engine/template.js';
import { RecoverError } from '../src/errors.js';
import { FIXTURES, expectNothingLeft, filesContaining, makeTmp, removeTmp, runCli } from './helpers.js';

const BACKUP = join(FIXTURES, 'generated', 'current', 'plain.sql');
/** In bob's 0-CHANGE text: if it is anywhere in the cache, backup data leaked into it. */
const BOB_TEXT = 'Buggy Racer 3000';

let tmp: string;
let xdg: string;
const cache = () => join(xdg, 'recover-texts');
const templates = () => readdirSync(cache()).filter((n) => n.startsWith('template-'));
const template = () => join(cache(), templates()[0]!);
const mode = (p: string) => statSync(p).mode & 0o777;

async function exportBob(...extra: string[]) {
  const r = await runCli(['export', BACKUP, '-u', 'bob', ...extra], { tmp, env: { XDG_CACHE_HOME: xdg } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(BOB_TEXT);
  return r;
}

beforeEach(() => {
  tmp = makeTmp('cache');
  xdg = makeTmp('xdg');
});
afterEach(() => {
  expectNothingLeft(tmp);
  removeTmp(tmp);
  removeTmp(xdg);
});

describe('the cached PostgreSQL template', () => {
  it('is made private on first use, then reused, and holds no backup data', async () => {
    await exportBob();
    expect(mode(cache())).toBe(0o700);
    expect(templates()).toHaveLength(1);
    expect(mode(template())).toBe(0o700);
    // It holds no secret: the server takes connections on its private socket with no password, or over 127.0.0.1 with a password set per run (engine-tcp.test.ts).
    expect(readdirSync(template()).sort()).toEqual(['data', 'stamp.json']);
    const hba = readFileSync(join(template(), 'data', 'pg_hba.conf'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/));
    expect(hba.filter((f) => f[0] === 'local').map((f) => f.at(-1))).toEqual(['trust', 'trust']);
    expect(hba.filter((f) => f[0] !== 'local').map((f) => f.at(-1))).toEqual(['reject', 'reject', 'reject', 'reject']);
    // The template databases were dropped before it was kept: one database's folder (postgres), not three.
    expect(readdirSync(join(template(), 'data', 'base'))).toHaveLength(1);
    const made = statSync(join(template(), 'data', 'PG_VERSION')).ino;

    await exportBob();
    expect(statSync(join(template(), 'data', 'PG_VERSION')).ino).toBe(made);
    // The search works (the backup has the text), and finds nothing in the cache.
    expect(filesContaining(join(FIXTURES, 'generated', 'current'), BOB_TEXT)).toContain(BACKUP);
    expect(filesContaining(cache(), BOB_TEXT)).toEqual([]);
  });

  it('is rebuilt when its stamp differs (another PostgreSQL, other initdb options); long-unused templates go, another installation\'s in use stays', async () => {
    await exportBob();
    const mine = template();
    const stamp = readFileSync(join(mine, 'stamp.json'), 'utf8');
    // A file of the old template's own: one made afresh does not have it (an inode number may be
    // given again to the new template's files once the old ones are removed, so it proves nothing).
    const old = join(mine, 'data', 'from-the-old-template');
    writeFileSync(old, '');
    writeFileSync(join(mine, 'stamp.json'), stamp.replace(/"binaries":"[^"]*"/, '"binaries":"embedded PostgreSQL 16.0"'));
    const unused = join(cache(), 'template-0000000000000000');
    mkdirSync(unused, { mode: 0o700 });
    const longAgo = new Date(Date.now() - UNUSED_TEMPLATE_MS - 24 * 3600_000);
    utimesSync(unused, longAgo, longAgo);
    // Another installation on this machine (a second checkout) may be copying its own right now.
    mkdirSync(join(cache(), 'template-ffffffffffffffff'), { mode: 0o700 });

    const r = await exportBob();
    expect(r.stderr).toMatch(/template .* did not match its stamp; rebuilding it/);
    expect(templates().sort()).toEqual([basename(mine), 'template-ffffffffffffffff'].sort());
    expect(readFileSync(join(mine, 'stamp.json'), 'utf8')).toBe(stamp);
    expect(existsSync(join(mine, 'data', 'PG_VERSION'))).toBe(true);
    expect(existsSync(old)).toBe(false);
  });

  it('is rebuilt, with a note, when other users could read it', async () => {
    await exportBob();
    chmodSync(template(), 0o755);
    let r = await exportBob();
    expect(r.stderr).toMatch(/was not private \(other users may read it \(mode 755\)\); rebuilding it/);
    expect(mode(template())).toBe(0o700);

    chmodSync(cache(), 0o755);
    r = await exportBob();
    expect(r.stderr).toMatch(/the cache .* was not private .*; rebuilt it with mode 0700/);
    expect(mode(cache())).toBe(0o700);
    expect(mode(template())).toBe(0o700);
  });

  it.skipIf(process.getuid?.() !== 0)('is not used, with a note, when another user owns it (needs root to chown)', async () => {
    mkdirSync(cache(), { mode: 0o700 });
    chownSync(cache(), 65534, 65534);
    const r = await exportBob();
    expect(r.stderr).toMatch(/not using the cache .*: it belongs to user id 65534, not to you/);
    expect(readdirSync(cache())).toEqual([]);
  });

  it('is neither read nor made with --no-cache', async () => {
    await exportBob('--no-cache');
    expect(existsSync(cache())).toBe(false);
  });
});

describe('recover-texts cache', () => {
  const cacheCli = (...args: string[]) => runCli(['cache', ...args], { tmp, env: { XDG_CACHE_HOME: xdg } });

  it('before any run: says there is none yet, and makes nothing', async () => {
    const r = await cacheCli();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`no PostgreSQL template cache yet: the next run makes ${cache()}\n`);
    expect(existsSync(cache())).toBe(false);
  });

  it('shows each template (what PostgreSQL it is for, size, last used) and the total; --json the same; --clear removes them, and the next run makes one again', async () => {
    await exportBob();
    const r = await cacheCli();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`PostgreSQL template cache: ${cache()}`);
    expect(r.stdout).toMatch(new RegExp(`${basename(template())}\\s+embedded PostgreSQL [\\d.]+\\s+\\d+\\.\\d MB\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(today\\)`));
    expect(r.stdout).toMatch(/^total: 1 template, \d+\.\d MB$/m);
    const json = JSON.parse((await cacheCli('--json')).stdout) as { dir: string; templates: { name: string; bytes: number }[]; totalBytes: number };
    expect(json.dir).toBe(cache());
    expect(json.templates.map((t) => t.name)).toEqual([basename(template())]);
    expect(json.templates[0]!.bytes).toBeGreaterThan(1e6);
    expect(json.totalBytes).toBe(json.templates[0]!.bytes);

    const cleared = await cacheCli('--clear');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(new RegExp(`^removed 1 template from ${cache()}: freed \\d+\\.\\d MB\\n$`));
    expect(templates()).toEqual([]);
    expect((await cacheCli('--clear')).stdout).toBe(`nothing to remove: ${cache()} holds no template\n`);

    await exportBob();
    expect(templates()).toHaveLength(1);
  });

  it('a template unused for 30 days goes with the next run that uses the cache (once a day), the one in use stays', async () => {
    await exportBob();
    const mine = basename(template());
    const old = join(cache(), 'template-0123456789abcdef');
    mkdirSync(old, { mode: 0o700 });
    writeFileSync(join(old, 'stamp.json'), '{}');
    const longAgo = new Date(Date.now() - UNUSED_TEMPLATE_MS - 24 * 3600_000);
    utimesSync(old, longAgo, longAgo);
    // The first run already looked today: the next looks again only a day later.
    const pruned = join(cache(), '.pruned');
    const yesterday = new Date(Date.now() - 25 * 3600_000);
    utimesSync(pruned, yesterday, yesterday);
    await exportBob();
    expect(templates()).toEqual([mine]);
  });

  it('in process: lists and clears; a cache that is not the user\'s own is one clear error', async () => {
    process.env.XDG_CACHE_HOME = xdg;
    try {
      expect((await listCache()).exists).toBe(false);
      mkdirSync(join(cache(), 'template-00000000000000aa', 'data'), { recursive: true, mode: 0o700 });
      writeFileSync(join(cache(), 'template-00000000000000aa', 'data', 'PG_VERSION'), '17\n');
      mkdirSync(join(cache(), '.removing-1-x-template-00000000000000bb'), { mode: 0o700 });
      mkdirSync(join(cache(), 'not-ours'), { mode: 0o700 });
      const listed = await listCache();
      expect(listed.templates.map((t) => [t.name, t.binaries, t.bytes])).toEqual([['template-00000000000000aa', null, 3]]);
      expect(listed.leftovers).toEqual({ entries: 1, bytes: 0 });
      const cleared = await clearCache();
      expect(cleared.removed).toEqual(['template-00000000000000aa']);
      expect(cleared.freedBytes).toBe(3);
      expect(readdirSync(cache())).toEqual(['not-ours']); // only what the tool makes is touched

      removeTmp(cache());
      writeFileSync(cache(), 'a file where the cache should be');
      const e = await listCache().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RecoverError);
      expect((e as RecoverError).code).toBe('CACHE_UNUSABLE');
      expect((e as RecoverError).message).toBe(`the PostgreSQL template cache ${cache()} cannot be used: it is not a directory`);
    } finally {
      delete process.env.XDG_CACHE_HOME;
    }
  });
});

describe('a template removed while a run copies it (another run cleared or pruned the cache)', () => {
  it('the run initialises its own data directory instead, with a note, and leaves no half copy', () => {
    const gone = join(xdg, 'template-00000000000000cc');
    mkdirSync(gone, { mode: 0o700 }); // renamed away: its data folder is not there any more
    const to = join(tmp, 'data');
    const notes: string[] = [];
    expect(copyFromTemplate({ data: join(gone, 'data') }, to, (m) => notes.push(m))).toBe(false);
    expect(existsSync(to)).toBe(false);
    expect(notes).toEqual([`the cached PostgreSQL template ${gone} was removed while this run copied it (another run cleared or pruned the cache); initialising a new data directory`]);
  });
});
