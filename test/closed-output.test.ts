/**
 * A closed pipe or a closed terminal leaves nothing behind: `| head` on
 * stdout or stderr (EPIPE), SIGHUP (terminal closed, ssh dropped) and
 * SIGQUIT (Ctrl-\) stop and remove the throwaway PostgreSQL, its cluster dir
 * and its shared memory, as SIGINT and SIGTERM do, with the exit statuses of
 * the README's table.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, DEMO, FIXTURES, leftovers, makeTmp, processesMentioning, removeTmp, ROOT, startPaused } from './helpers.js';

/** 1.2 MB of JSON on stdout: far more than a pipe holds, so a reader that leaves after one line closes it mid-write. */
const BIG = join(FIXTURES, 'generated', 'bigtext', 'plain.sql.gz');

let tmp: string;
beforeAll(() => {
  tmp = makeTmp('closed-out');
});
afterAll(() => removeTmp(tmp));

/**
 * Where the runs' shared memory is checked. As root, each run gets a /dev/shm of its own (a
 * mount namespace binding a fresh folder there): what is left in it after the run is exactly
 * what the run left, whatever other runs on this machine do in theirs. Elsewhere, the shared
 * /dev/shm: segments that appeared since and that no live process maps.
 */
interface ShmWatch {
  /** The command a run goes under (its arguments, then the run's). */
  under: string[];
  /** Segments the run left behind. */
  orphans(): string[];
  /** Segments in the run's own /dev/shm now (none when it has none of its own). */
  live(): string[];
  remove(): void;
}

const SHM = '/dev/shm';
const isSegment = (n: string) => n.startsWith('PostgreSQL.');

function watchShm(): ShmWatch {
  const own = mkdtempSync(join(SHM, 'rt-closed-output-'));
  chmodSync(own, 0o1777); // as /dev/shm itself
  if (spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'mount', '--bind', own, SHM]).status === 0) {
    const inOwn = () => readdirSync(own).filter(isSegment);
    return {
      under: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /dev/shm && exec "$@"', own],
      orphans: inOwn,
      live: inOwn,
      remove: () => rmSync(own, { recursive: true, force: true }),
    };
  }
  rmSync(own, { recursive: true, force: true });
  const before = segments();
  return { under: [], orphans: () => orphanedSince(before), live: () => [], remove: () => {} };
}

/** PostgreSQL's shared memory segments in /dev/shm. */
function segments(): Set<string> {
  try {
    return new Set(readdirSync(SHM).filter(isSegment));
  } catch {
    return new Set();
  }
}

/** Segments mapped by any live process (another run's server, on a shared machine). */
function mappedSegments(): Set<string> {
  const mapped = new Set<string>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      for (const m of readFileSync(`/proc/${pid}/maps`, 'utf8').matchAll(/\/dev\/shm\/(PostgreSQL\.\d+)/g)) mapped.add(m[1]!);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return mapped;
}

/** Segments that appeared since `before` and that no live process maps (others' runs map theirs while they run). */
function orphanedSince(before: Set<string>): string[] {
  const mapped = mappedSegments();
  return [...segments()].filter((n) => !before.has(n) && !mapped.has(n));
}

async function settle(text: string): Promise<number[]> {
  for (let k = 0; k < 50 && processesMentioning(text).length; k++) await new Promise((r) => setTimeout(r, 100));
  return processesMentioning(text);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** What a run must leave: no server whose data dir was in its TMPDIR, no cluster dir, no orphaned shared memory. */
async function expectNothingLeft(dir: string, shm: ShmWatch): Promise<void> {
  expect(await settle(dir)).toEqual([]);
  expect(leftovers(dir)).toEqual([]);
  expect(shm.orphans()).toEqual([]);
}

/** Run a shell pipeline (bash, for PIPESTATUS) with the CLI as `recover-texts`; the CLI's own exit status comes back. */
function pipeline(command: string, env: NodeJS.ProcessEnv, under: string[]): Promise<{ code: number; out: string }> {
  const script = `${command.replaceAll('recover-texts', `"${process.execPath}" "${CLI}"`)}; echo "status=\${PIPESTATUS[0]}" >&3`;
  return new Promise((resolve) => {
    const [command0, ...args] = [...under, 'bash', '-c', script];
    const child = spawn(command0!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let status = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stdio[3]!.on('data', (d) => (status += d));
    child.once('close', () => resolve({ code: Number(/status=(\d+)/.exec(status)?.[1] ?? -1), out }));
  });
}

describe('a closed pipe', () => {
  it('`export ... | head -1` on stdout: exit 141, no server, no cluster dir, no shared memory left', async () => {
    const dir = makeTmp('pipe-out');
    const shm = watchShm();
    try {
      const r = await pipeline(`recover-texts export ${BIG} -u mega 2>/dev/null | head -1`, { TMPDIR: dir }, shm.under);
      expect(r.out).toBe('[\n');
      expect(r.code).toBe(141);
      await expectNothingLeft(dir, shm);
    } finally {
      removeTmp(dir);
      shm.remove();
    }
  });

  it('`export ... 2>&1 | head -1` (stdout and stderr into one reader that leaves): exit 141, nothing left', async () => {
    const dir = makeTmp('pipe-both');
    const shm = watchShm();
    try {
      const r = await pipeline(`recover-texts export ${BIG} -u mega 2>&1 | head -1`, { TMPDIR: dir }, shm.under);
      expect(r.out).toMatch(/^mega: 3 texts from the backup/);
      expect(r.code).toBe(141);
      await expectNothingLeft(dir, shm);
    } finally {
      removeTmp(dir);
      shm.remove();
    }
  });

  it('stderr into a reader that left before the first note (as `2>&1 >/dev/null | true`): exit 141, nothing left', async () => {
    // The first note on stderr comes while the server runs; its reader is gone before that, so it is the one that fails.
    const dir = makeTmp('pipe-err');
    const shm = watchShm();
    try {
      const [command0, ...args] = [...shm.under, process.execPath, CLI, 'export', DEMO, '-u', 'alice'];
      const child = spawn(command0!, args, { cwd: ROOT, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.destroy();
      expect(await exitOf(child)).toBe(141);
      await expectNothingLeft(dir, shm);
    } finally {
      removeTmp(dir);
      shm.remove();
    }
  });

  it('`history ... 2>&1 | head -c 300`: exit 141 (0 when all of it fitted in the pipe before head left), nothing left', async () => {
    const dir = makeTmp('pipe-hist');
    const shm = watchShm();
    try {
      const r = await pipeline(`recover-texts history -u alice ${join(FIXTURES, 'story')} 2>&1 | head -c 300`, { TMPDIR: dir }, shm.under);
      expect(r.out.length).toBe(300);
      expect([0, 141]).toContain(r.code); // 0 when everything fitted in the pipe before head left
      await expectNothingLeft(dir, shm);
    } finally {
      removeTmp(dir);
      shm.remove();
    }
  });
});

describe('a closed terminal and SIGQUIT', () => {
  for (const [signal, code] of [['SIGHUP', 129], ['SIGQUIT', 131]] as const) {
    for (const stage of ['engine-started', 'loading']) {
      it(`${signal} while ${stage}: exit ${code}, no server, no cluster dir, no shared memory left`, async () => {
        const shm = watchShm();
        try {
          const child = await startPaused(['export', DEMO, '-u', 'alice'], stage, { env: { TMPDIR: tmp }, under: shm.under });
          expect(leftovers(tmp).length).toBeGreaterThan(0); // the cluster is there while paused
          expect(processesMentioning(tmp).length).toBeGreaterThan(0); // and its server runs
          if (shm.under.length) expect(shm.live().length).toBeGreaterThan(0); // with its shared memory where the check looks
          const done = exitOf(child);
          child.kill(signal);
          expect(await done).toBe(code);
          await expectNothingLeft(tmp, shm);
        } finally {
          shm.remove();
        }
      });
    }
  }
});
