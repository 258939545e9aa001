/**
 * What else a folder of backups may hold on a shared machine: a named pipe, a
 * socket, a link to a device, another user's unreadable file, a folder whose
 * index.json is a pipe, names with line breaks and escape sequences. Each is
 * skipped with a note, never opened, and the backups beside it are read.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackups } from '../src/detect/index.js';
import { DEMO, makeTmp, removeTmp, runCli } from './helpers.js';

let tmp: string;
let dir: string;
let socket: Server;
const FORGED = 'evil\nrecover-texts: wrote alice.json';
beforeAll(async () => {
  tmp = makeTmp('members');
  dir = join(tmp, 'backups');
  mkdirSync(dir);
  copyFileSync(DEMO, join(dir, 'buggy_race_bk_20260315.sql.gz'));
  execFileSync('mkfifo', [join(dir, 'pipe.sql')]);
  mkdirSync(join(dir, 'alice-texts'));
  execFileSync('mkfifo', [join(dir, 'alice-texts', 'index.json')]);
  symlinkSync('/dev/zero', join(dir, 'zero.sql'));
  socket = createServer();
  await new Promise<void>((done) => socket.listen(join(dir, 'sock.sql'), done));
  writeFileSync(join(dir, FORGED), '-- a dump\n');
  writeFileSync(join(dir, 'red\x1b[31m.sql'), 'not a backup\n');
});
afterAll(async () => {
  await new Promise((done) => socket.close(done));
  removeTmp(tmp);
});

describe('a folder holding things that are not files', () => {
  it('skips pipes, sockets and devices unopened, and names with a line break, reading the backup beside them', async () => {
    const s = await selectBackups([dir]);
    expect(s.backups.map((b) => b.path)).toEqual([join(dir, 'buggy_race_bk_20260315.sql.gz')]);
    const reason = (name: string) => s.skipped.find((k) => k.path === join(dir, name))?.reason;
    expect(reason('pipe.sql')).toBe('a fifo (named pipe), not a file: never opened');
    expect(reason('sock.sql')).toBe('a socket, not a file: never opened');
    expect(reason('zero.sql')).toBe('a device, not a file: never opened');
    expect(reason(FORGED)).toMatch(/^its name holds a line break/);
    // Another control character is only shown escaped: the file is read like any other (this one is no backup).
    expect(reason('red\x1b[31m.sql')).not.toMatch(/its name/);
    // A folder whose index.json is a pipe is no folder of texts, and is never waited on.
    expect(reason('alice-texts')).toBe('a folder (folders are not searched inside)');
  });

  it('history says each skip on one line, the names escaped, and no line is forged', async () => {
    const r = await runCli(['history', '--user', 'alice', dir], { tmp });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines).toContain(`skipped ${join(dir, 'evil')}\\x0arecover-texts: wrote alice.json: its name holds a line break (shown escaped), which no backup job writes: rename it to read it`);
    expect(lines.some((l) => l.startsWith('recover-texts: wrote'))).toBe(false);
    expect(r.stderr).not.toContain('\x1b');
    expect(lines).toContain(`skipped ${join(dir, 'pipe.sql')}: a fifo (named pipe), not a file: never opened`);
  });
});

describe("another user's file in the folder", () => {
  it('is skipped as unreadable, and the backups beside it are read', async () => {
    const root = process.getuid?.() === 0;
    const nobody = root ? Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()) : undefined;
    const shared = join(tmp, 'shared');
    mkdirSync(shared);
    copyFileSync(DEMO, join(shared, 'buggy_race_bk_20260315.sql.gz'));
    writeFileSync(join(shared, 'other.sql'), '-- not yours\n', { mode: 0o600 });
    chmodSync(join(shared, 'other.sql'), root ? 0o600 : 0o000);
    chmodSync(join(shared, 'buggy_race_bk_20260315.sql.gz'), 0o644);
    // As root every file is readable: the run is made by the unprivileged user nobody, in a temp folder it may write.
    const scratch = join(tmp, 'scratch');
    mkdirSync(scratch);
    chmodSync(scratch, 0o1777);
    const res = await runCli(['history', '--user', 'alice', shared], { tmp: scratch, under: root ? ['setpriv', `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups'] : [] });
    expect(res.stderr).toContain(`skipped ${join(shared, 'other.sql')}: cannot be read by you (EACCES)`);
    expect(res.code).toBe(0);
  });
});
