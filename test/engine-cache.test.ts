/**
 * The cached data-directory template (engine/template.ts): made private on
 * first use, reused, rebuilt when its stamp differs or its mode is open,
 * bypassed when someone else owns it, never holding backup data or a secret, and
 * untouched by --no-cache. Real exports through the embedded PostgreSQL.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    const made = statSync(join(mine, 'data', 'PG_VERSION')).ino;
    writeFileSync(join(mine, 'stamp.json'), stamp.replace(/"binaries":"[^"]*"/, '"binaries":"embedded PostgreSQL 16.0"'));
    const unused = join(cache(), 'template-0000000000000000');
    mkdirSync(unused, { mode: 0o700 });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(unused, twoDaysAgo, twoDaysAgo);
    // Another installation on this machine (a second checkout) may be copying its own right now.
    mkdirSync(join(cache(), 'template-ffffffffffffffff'), { mode: 0o700 });

    const r = await exportBob();
    expect(r.stderr).toMatch(/template .* did not match its stamp; rebuilding it/);
    expect(templates().sort()).toEqual([basename(mine), 'template-ffffffffffffffff'].sort());
    expect(readFileSync(join(mine, 'stamp.json'), 'utf8')).toBe(stamp);
    expect(statSync(join(mine, 'data', 'PG_VERSION')).ino).not.toBe(made);
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
