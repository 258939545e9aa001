/**
 * A closed pipe or a closed terminal leaves nothing behind: `| head` on
 * stdout or stderr (EPIPE), SIGHUP (terminal closed, ssh dropped) and
 * SIGQUIT (Ctrl-\) stop and remove the throwaway PostgreSQL, its cluster dir
 * and its shared memory, as SIGINT and SIGTERM do, with the exit statuses of
 * the README's table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** PostgreSQL's shared memory segments in /dev/shm. */
function segments(): Set<string> {
  try {
    return new Set(readdirSync('/dev/shm').filter((n) => n.startsWith('PostgreSQL.')));
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

/**
 * Segments that appeared since `before` and that no live process maps: left
 * by a server that was not stopped as it should be. (Other engineers' runs on
 * this machine map theirs while they run, so they are not counted.)
 */
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
async function expectNothingLeft(dir: string, before: Set<string>): Promise<void> {
  expect(await settle(dir)).toEqual([]);
  expect(leftovers(dir)).toEqual([]);
  expect(orphanedSince(before)).toEqual([]);
}

/** Run a shell pipeline (bash, for PIPESTATUS) with the CLI as `recover-texts`; the CLI's own exit status comes back. */
function pipeline(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const script = `${command.replaceAll('recover-texts', `"${process.execPath}" "${CLI}"`)}; echo "status=\${PIPESTATUS[0]}" >&3`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
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
    const before = segments();
    try {
      const r = await pipeline(`recover-texts export ${BIG} -u mega 2>/dev/null | head -1`, { TMPDIR: dir });
      expect(r.out).toBe('[\n');
      expect(r.code).toBe(141);
      await expectNothingLeft(dir, before);
    } finally {
      removeTmp(dir);
    }
  });

  it('`export ... 2>&1 | head -1` (stdout and stderr into one reader that leaves): exit 141, nothing left', async () => {
    const dir = makeTmp('pipe-both');
    const before = segments();
    try {
      const r = await pipeline(`recover-texts export ${BIG} -u mega 2>&1 | head -1`, { TMPDIR: dir });
      expect(r.out).toMatch(/^mega: 3 texts from the backup/);
      expect(r.code).toBe(141);
      await expectNothingLeft(dir, before);
    } finally {
      removeTmp(dir);
    }
  });

  it('stderr into a reader that left before the first note (as `2>&1 >/dev/null | true`): exit 141, nothing left', async () => {
    // The first note on stderr comes while the server runs; its reader is gone before that, so it is the one that fails.
    const dir = makeTmp('pipe-err');
    const before = segments();
    try {
      const child = spawn(process.execPath, [CLI, 'export', DEMO, '-u', 'alice'], { cwd: ROOT, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.destroy();
      expect(await exitOf(child)).toBe(141);
      await expectNothingLeft(dir, before);
    } finally {
      removeTmp(dir);
    }
  });

  it('`history ... 2>&1 | head -c 300`: exit 141 (0 when all of it fitted in the pipe before head left), nothing left', async () => {
    const dir = makeTmp('pipe-hist');
    const before = segments();
    try {
      const r = await pipeline(`recover-texts history -u alice ${join(FIXTURES, 'story')} 2>&1 | head -c 300`, { TMPDIR: dir });
      expect(r.out.length).toBe(300);
      expect([0, 141]).toContain(r.code); // 0 when everything fitted in the pipe before head left
      await expectNothingLeft(dir, before);
    } finally {
      removeTmp(dir);
    }
  });
});

describe('a closed terminal and SIGQUIT', () => {
  for (const [signal, code] of [['SIGHUP', 129], ['SIGQUIT', 131]] as const) {
    for (const stage of ['engine-started', 'loading']) {
      it(`${signal} while ${stage}: exit ${code}, no server, no cluster dir, no shared memory left`, async () => {
        const before = segments();
        const child = await startPaused(['export', DEMO, '-u', 'alice'], stage, { env: { TMPDIR: tmp } });
        expect(leftovers(tmp).length).toBeGreaterThan(0); // the cluster is there while paused
        expect(processesMentioning(tmp).length).toBeGreaterThan(0); // and its server runs
        const done = exitOf(child);
        child.kill(signal);
        expect(await done).toBe(code);
        await expectNothingLeft(tmp, before);
      });
    }
  }
});
