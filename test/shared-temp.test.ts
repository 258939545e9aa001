/**
 * Shared temp folders belong to everyone, and as root the server's account
 * gets a tree it cannot turn against root.
 *
 * The stale-cluster sweep touches only a real directory (not a symlink), of
 * ours, mode 0700, whose marker names a process that is gone; it signals a
 * server only when it runs with exactly `-D <dir>/data`; what it cannot do is
 * said under --debug and never fails the run. As root, the cluster's dir is
 * handed over with lchown bottom-up and removed as the server's account, so
 * a symlink planted inside never reaches root's files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handOver, removeClusterDir } from '../src/engine/index.js';
import { DEMO, FIXTURES, makeTmp, removeTmp, runCli } from './helpers.js';

const ALICE = readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8');
const isRoot = process.getuid?.() === 0;

/** The account a root run's server runs as (cluster.ts: RECOVER_TEXTS_RUN_AS, else postgres, else nobody). */
function serverAccount(): { name: string; uid: number; gid: number } | undefined {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of process.env.RECOVER_TEXTS_RUN_AS ? [process.env.RECOVER_TEXTS_RUN_AS] : ['postgres', 'nobody']) {
    const [, , uid, gid] = passwd.find((l) => l.startsWith(`${name}:`))?.split(':') ?? [];
    if (uid !== undefined && Number(uid) !== 0) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
const account = isRoot ? serverAccount() : undefined;

/** A pid whose process has surely exited. */
function deadPid(): number {
  const p = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(p.stdout);
}

function marker(dir: string, pid: number): void {
  writeFileSync(join(dir, 'recover-texts.json'), JSON.stringify({ pid, created: new Date().toISOString() }) + '\n', { mode: 0o600 });
}

/** What must not change about a planted entry. */
function print(path: string): Pick<Stats, 'ino' | 'uid' | 'gid' | 'mode'> & { marker?: string } {
  const st = lstatSync(path);
  const m = join(path, 'recover-texts.json');
  // Only a regular marker is read: a FIFO would block.
  const readable = st.isDirectory() && existsSync(m) && lstatSync(m).isFile();
  return { ino: st.ino, uid: st.uid, gid: st.gid, mode: st.mode, ...(readable ? { marker: readFileSync(m, 'utf8') } : {}) };
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

describe('the stale-cluster sweep in a shared temp folder', () => {
  let tmp: string;
  let home: string;
  let elsewhere: string;
  let bystander: ChildProcess | undefined;
  beforeAll(() => {
    tmp = makeTmp('shared-tmp');
    home = makeTmp('shared-home');
    elsewhere = makeTmp('shared-elsewhere');
  });
  afterAll(() => {
    bystander?.kill('SIGKILL');
    for (const d of [tmp, home, elsewhere]) removeTmp(d);
  });

  it("leaves another user's dir, a symlink, a dir open to others, a file and a FIFO marker alone; signals no process that only mentions a cluster's path; the export succeeds", async () => {
    const gone = deadPid();
    const planted: string[] = [];
    const plant = (name: string) => {
      planted.push(join(tmp, name));
      return join(tmp, name);
    };

    // Another user's dir, private, whose marker names a dead process (as root only: chown).
    const otherUid = account?.uid === 65534 ? 65533 : 65534;
    if (isRoot) {
      const other = plant('recover-texts-other');
      mkdirSync(other, { mode: 0o700 });
      marker(other, gone);
      chownSync(join(other, 'recover-texts.json'), otherUid, otherUid);
      chownSync(other, otherUid, otherUid);
    }
    // A symlink with our name, to a dir of ours that looks stale.
    const target = join(elsewhere, 'looks-stale');
    mkdirSync(target, { mode: 0o700 });
    marker(target, gone);
    symlinkSync(target, plant('recover-texts-link'));
    // Ours, stale by its marker, but open to others (0755): not one we made.
    const open = plant('recover-texts-open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o755);
    marker(open, gone);
    // A file with our name.
    writeFileSync(plant('recover-texts-file'), JSON.stringify({ pid: gone }));
    // Ours and private, but its marker is a FIFO: never read (a read would hang the run).
    const fifo = plant('recover-texts-fifo');
    mkdirSync(fifo, { mode: 0o700 });
    spawnSync('mkfifo', [join(fifo, 'recover-texts.json')]);

    // A stale dir of ours whose postmaster.pid names a live process that mentions its data path, but not as `-D <dir>/data`.
    const stale = join(tmp, 'recover-texts-stale');
    mkdirSync(join(stale, 'data'), { recursive: true, mode: 0o700 });
    chmodSync(stale, 0o700);
    marker(stale, gone);
    bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '-X', join(stale, 'data')], { stdio: 'ignore' });
    writeFileSync(join(stale, 'data', 'postmaster.pid'), `${bystander.pid}\n${join(stale, 'data')}\n`);

    const before = planted.map(print);
    const r = await runCli(['export', DEMO, '-u', 'alice'], { tmp, env: { HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(ALICE);

    expect(planted.map(print)).toEqual(before);
    expect(lstatSync(join(tmp, 'recover-texts-link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tmp, 'recover-texts-link'))).toBe(target);
    expect(readFileSync(join(target, 'recover-texts.json'), 'utf8')).toContain(`"pid":${gone}`);
    // The stale dir of ours went; the process that only mentioned its path was not signalled.
    expect(existsSync(stale)).toBe(false);
    expect(r.stderr).toMatch(/removed a throwaway cluster left by an interrupted run/);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(bystander)).toBe(true);
  });

  it.skipIf(!account)(
    `a stale dir it cannot fully remove is said under --debug, and the export still succeeds${account ? '' : ' (skipped: needs root and a server account)'}`,
    async () => {
      // The server's account's stale dir, holding a folder of root's: removed as that account, which may not empty it.
      const stuck = join(tmp, 'recover-texts-stuck');
      mkdirSync(join(stuck, 'roots'), { recursive: true, mode: 0o700 });
      chmodSync(join(stuck, 'roots'), 0o755);
      writeFileSync(join(stuck, 'roots', 'kept'), 'root owns this\n');
      chmodSync(stuck, 0o700);
      chownSync(stuck, account!.uid, account!.gid);
      // (Re)planted before each run: a failed removal still takes what the account may remove, its marker too.
      const stale = () => {
        marker(stuck, deadPid());
        chownSync(join(stuck, 'recover-texts.json'), account!.uid, account!.gid);
      };

      stale();
      const quiet = await runCli(['export', DEMO, '-u', 'alice'], { tmp, env: { HOME: home } });
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stdout).toBe(ALICE);
      expect(quiet.stderr).not.toMatch(/could not remove/);

      stale();
      const debug = await runCli(['export', DEMO, '-u', 'alice', '--debug'], { tmp, env: { HOME: home } });
      expect(debug.code, debug.stderr).toBe(0);
      expect(debug.stdout).toBe(ALICE);
      expect(debug.stderr).toContain(`could not remove the stale temp dir ${stuck}`);
      expect(readFileSync(join(stuck, 'roots', 'kept'), 'utf8')).toBe('root owns this\n');
    },
  );
});

describe.skipIf(!account)(`as root, the server's account's tree${account ? '' : ' (skipped: needs root and a server account)'}`, () => {
  let tmp: string;
  let outside: string;
  beforeAll(() => {
    tmp = makeTmp('handover');
    outside = makeTmp('handover-outside');
  });
  afterAll(() => {
    removeTmp(tmp);
    removeTmp(outside);
  });

  it('handOver and the removal leave a root-owned file and folder outside, reached by planted symlinks, as they were', async () => {
    const secret = join(outside, 'secret');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    const secretDir = join(outside, 'dir');
    mkdirSync(secretDir, { mode: 0o700 });
    writeFileSync(join(secretDir, 'inside'), 'root only too\n', { mode: 0o600 });

    // Built by root in a root-owned 0700 dir, as cluster.ts builds a cluster's dir.
    const dir = join(tmp, 'recover-texts-tree');
    mkdirSync(join(dir, 'data', 'base'), { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'data', 'base', 'file'), 'x', { mode: 0o600 });
    symlinkSync(secret, join(dir, 'data', 'link-to-file'));
    symlinkSync(secretDir, join(dir, 'link-to-dir'));

    handOver(dir, account!);
    for (const p of [dir, join(dir, 'data'), join(dir, 'data', 'base', 'file'), join(dir, 'data', 'link-to-file'), join(dir, 'link-to-dir')]) {
      expect(lstatSync(p).uid, p).toBe(account!.uid);
    }
    // lchown: the links themselves changed hands, never what they point to.
    expect(statSync(secret).uid).toBe(0);
    expect(statSync(secretDir).uid).toBe(0);

    // Once it is the account's, a process of that account plants more.
    const asAccount = (args: string[]) =>
      expect(spawnSync('setpriv', [`--reuid=${account!.uid}`, `--regid=${account!.gid}`, '--clear-groups', ...args], { cwd: '/' }).status).toBe(0);
    asAccount(['ln', '-s', secret, join(dir, 'data', 'planted-file')]);
    asAccount(['ln', '-s', secretDir, join(dir, 'data', 'base', 'planted-dir')]);

    await removeClusterDir(dir, account!);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(secret, 'utf8')).toBe('root only\n');
    expect(statSync(secret).uid).toBe(0);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(secretDir, 'inside'), 'utf8')).toBe('root only too\n');
    expect(statSync(secretDir).uid).toBe(0);
  });
});
