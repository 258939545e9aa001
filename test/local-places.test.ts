/**
 * Local places fail with the right story: a home that does not exist or
 * cannot be written (cron, systemd, nobody) means running without the
 * template cache, said once; a missing or unwritable TMPDIR is named, with
 * its own exit status; a local file-system error never blames the backup,
 * and "SQLSTATE" is only ever PostgreSQL's own code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, DEMO, expectCleanError, FIXTURES, makeTmp, removeTmp, expectNothingLeft, type CliResult } from './helpers.js';

const ALICE = readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8');
const NO_CACHE_NOTE = /running without the PostgreSQL template cache/g;

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('places');
});
afterAll(() => removeTmp(tmp));

/** The environment of a service: this HOME, no XDG_CACHE_HOME unless given. */
function serviceEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, ...extra };
  if (!('XDG_CACHE_HOME' in extra)) delete env.XDG_CACHE_HOME;
  return env;
}

/** Run `command args...` to its end; its status and both outputs. */
function runTo(command: string, args: string[], env: NodeJS.ProcessEnv): CliResult {
  const r = spawnSync(command, args, { cwd: '/', env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function run(env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runTo(process.execPath, [CLI, 'export', DEMO, '-u', 'alice'], env);
}

/** `export DEMO -u alice` with the whole environment given (a missing HOME or XDG_CACHE_HOME must stay missing). */
const exportAlice = run;

/** Nothing in the story blames the backup or calls an errno name a SQLSTATE. */
function expectNoBackupBlame(stderr: string): void {
  expect(stderr).not.toMatch(/backup may be damaged|loading the backup failed/);
  expect(stderr).not.toMatch(/SQLSTATE/);
}

describe('a home that is not there', () => {
  it('HOME=/nonexistent: the export succeeds without the cache, says so once, and makes no /nonexistent', async () => {
    const r = await exportAlice(serviceEnv({ HOME: '/nonexistent' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(ALICE);
    expect(r.stderr.match(NO_CACHE_NOTE)).toHaveLength(1);
    expect(r.stderr).toMatch(/the home folder \/nonexistent does not exist/);
    expectNoBackupBlame(r.stderr);
    expect(existsSync('/nonexistent')).toBe(false);
    expectNothingLeft(tmp);
  });

  it('HOME=/nonexistent with XDG_CACHE_HOME set: the cache is kept there, mode 0700, with no note', async () => {
    const xdg = mkdtempSync(join(tmpdir(), 'rt-places-xdg-'));
    try {
      const r = await exportAlice(serviceEnv({ HOME: '/nonexistent', XDG_CACHE_HOME: xdg }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(ALICE);
      expect(r.stderr).not.toMatch(NO_CACHE_NOTE);
      expect(statSync(join(xdg, 'recover-texts')).mode & 0o777).toBe(0o700);
      expect(readdirSync(join(xdg, 'recover-texts')).filter((n) => n.startsWith('template-'))).toHaveLength(1);
      expect(existsSync('/nonexistent')).toBe(false);
    } finally {
      removeTmp(xdg);
    }
  });
});

describe('a temp folder that is not there', () => {
  it('TMPDIR=/nonexistent: exit 13, naming the folder and TMPDIR, not the backup', async () => {
    const r = await run(serviceEnv({ TMPDIR: '/nonexistent' }));
    expect(r.code, r.stderr).toBe(13);
    const { message, hint } = expectCleanError(r);
    expect(message).toMatch(/the temp folder \/nonexistent \(TMPDIR\) does not exist/);
    expect(hint).toMatch(/set TMPDIR to a folder that exists/);
    expectNoBackupBlame(r.stderr);
    expect(r.stdout).toBe('');
  });
});

/** Can the unprivileged `nobody` (65534) run the built CLI from here? Only as root, and only where it can read it. */
function nobodyCanRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root, to run the CLI as nobody (setpriv)';
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, '--version'], { cwd: '/', stdio: 'ignore' });
    return null;
  } catch {
    return 'nobody (65534) cannot run the built CLI here (setpriv missing, or the checkout is not readable by other users)';
  }
}
const whyNot = nobodyCanRun();

describe.skipIf(whyNot !== null)(`as nobody, with places it may not write${whyNot ? ` (skipped: ${whyNot})` : ''}`, () => {
  /** A root-owned folder, mode 0755: nobody may read it but not write it. */
  let closed: string;
  /** A folder nobody may write, for its TMPDIR. */
  let open: string;
  beforeAll(() => {
    closed = mkdtempSync(join(tmpdir(), 'rt-places-closed-'));
    chmodSync(closed, 0o755);
    open = mkdtempSync(join(tmpdir(), 'rt-places-open-'));
    chmodSync(open, 0o777);
  });
  afterAll(() => {
    removeTmp(closed);
    removeTmp(open);
  });
  const asNobody = async (env: NodeJS.ProcessEnv): Promise<CliResult> =>
    runTo('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'export', DEMO, '-u', 'alice'], env);

  it('a home it may not write: the export succeeds without the cache, saying so once', async () => {
    const r = await asNobody(serviceEnv({ HOME: closed, TMPDIR: open }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(ALICE);
    expect(r.stderr.match(NO_CACHE_NOTE)).toHaveLength(1);
    expect(r.stderr).toContain(`${closed}/.cache/recover-texts cannot be made (EACCES`);
    expectNoBackupBlame(r.stderr);
    expectNothingLeft(open);
  });

  it('a TMPDIR it may not write: exit 13, naming the folder, not the backup', async () => {
    const r = await asNobody(serviceEnv({ HOME: closed, TMPDIR: closed }));
    expect(r.code, r.stderr).toBe(13);
    const { message } = expectCleanError(r);
    expect(message).toContain(`the temp folder ${closed} (TMPDIR) is not writable by you`);
    expectNoBackupBlame(r.stderr);
  });
});
