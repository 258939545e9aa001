/**
 * The `docker` engine: a throwaway PostgreSQL in a container, started with
 * testcontainers' PostgreSqlContainer. For machines where the embedded
 * binaries cannot run (musl, 16k-page arm64 kernels, hosts that forbid
 * downloaded binaries) and for admins who want a given PostgreSQL version.
 *
 * testcontainers is loaded here, with import(), only when this engine is
 * chosen: other engines never load Docker code.
 *
 * Safety: the port is published on 127.0.0.1 only; the superuser has a
 * random password; the container is force-removed (with its volumes) at the
 * end, on a signal and on errors. Each container carries our labels (owner
 * pid and host, start time, run id), so one left by a run killed with -9 is
 * removed by the next docker run. Ryuk, testcontainers' own reaper, is off:
 * it is an image to pull and a port to reach, neither of which we may have.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { PostgreSqlContainer } from '@testcontainers/postgresql';
import type { ContainerRuntimeClient } from 'testcontainers';
import { RecoverError } from '../errors.js';
import { processAlive, type Scope } from '../scope.js';
import type { EngineConfig, Server } from './types.js';

/**
 * The image when --image is not given. The official image of the major
 * version the embedded engine runs, so both engines load into the same
 * PostgreSQL, and a run never depends on which images happen to be on the
 * machine. When it is missing and cannot be pulled, the error names the
 * PostgreSQL images that are there.
 */
export const DEFAULT_IMAGE = 'postgres:17';

/** Every container we start carries LABEL=1; the others say whose it is. */
const LABEL = 'org.recover-texts';
const LABEL_PID = `${LABEL}.owner-pid`;
const LABEL_HOST = `${LABEL}.owner-host`;
const LABEL_STARTED = `${LABEL}.started-at`;
/** The owner's kernel boot (/proc/sys/kernel/random/boot_id) and pid namespace (/proc/self/ns/pid): its pid means something only there. */
const LABEL_BOOT = `${LABEL}.owner-boot-id`;
const LABEL_PIDNS = `${LABEL}.owner-pid-ns`;
/** One run's container, found by this before testcontainers has told us its id. */
const LABEL_RUN = `${LABEL}.run`;

const SUPERUSER = 'recover';
const PG_PORT = 5432;
/** testcontainers' own default for PostgreSQL: a first initdb on a slow disk takes a while. */
const READY_TIMEOUT_MS = 120_000;
const LOG_LINES = 15;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

type Testcontainers = typeof import('testcontainers');
type PostgresModule = typeof import('@testcontainers/postgresql');

export async function startDocker(config: Extract<EngineConfig, { kind: 'docker' }>, scope: Scope): Promise<Server> {
  const { image, log } = config;
  // An explicit DOCKER_HOST must be the engine used: testcontainers would quietly fall back to the default socket.
  if (process.env.DOCKER_HOST) await probe(process.env.DOCKER_HOST);
  const { tc, pgModule } = await loadTestcontainers();
  const client = await tc.getContainerRuntimeClient().catch(async (e: unknown) => {
    await probe(process.env.DOCKER_HOST || DEFAULT_SOCKET);
    throw unreachable(process.env.DOCKER_HOST || DEFAULT_SOCKET, (e as Error).message, e);
  });
  const host = client.info.containerRuntime.host;
  if (!LOCAL_HOSTS.has(host)) {
    throw new RecoverError('DOCKER_NOT_LOCAL', `the Docker engine runs on ${host}, but the throwaway PostgreSQL is published on 127.0.0.1 only`, {
      hint: 'use a Docker engine on this machine, or run recover-texts where the Docker engine runs, or use the embedded engine (drop --engine docker)',
    });
  }
  await removeStaleContainers(client, log, config.debug);
  const here = thisOrigin();

  const run = randomBytes(8).toString('hex');
  const password = randomBytes(24).toString('base64url'); // base64url: safe inside the health check's shell command
  const shutdown = scope.once(async () => {
    scope.untrack(resource);
    await removeContainers(client, `${LABEL_RUN}=${run}`);
  });
  // Tracked from before the container exists: a signal while starting removes whatever start created.
  const resource = scope.track({ label: `PostgreSQL container from ${image}`, dispose: shutdown });
  // The container's output as it comes: testcontainers removes a container that fails to become
  // ready, so its logs must be kept while it runs, not fetched afterwards.
  const output: string[] = [];
  try {
    await ensureImage(client, tc, image, log);
    // Watched from before the container exists: one that dies at once may be gone before any listing sees it.
    const died = await watchDeath(client, run);
    const starting = localOnly(pgModule.PostgreSqlContainer, image)
      .withUsername(SUPERUSER)
      .withPassword(password)
      .withDatabase('postgres')
      .withLabels({
        [LABEL]: '1',
        [LABEL_PID]: String(process.pid),
        [LABEL_HOST]: hostname(),
        [LABEL_STARTED]: new Date().toISOString(),
        ...(here.bootId ? { [LABEL_BOOT]: here.bootId } : {}),
        ...(here.pidNs ? { [LABEL_PIDNS]: here.pidNs } : {}),
        [LABEL_RUN]: run,
      })
      // A scratch copy: durability buys nothing, speed does (as for the embedded cluster).
      .withCommand([
        'postgres',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=20', '-c', 'max_wal_size=1GB', '-c', 'autovacuum=off', '-c', 'TimeZone=UTC',
      ])
      .withStartupTimeout(READY_TIMEOUT_MS)
      // Cleanup is ours (shutdown, signals, the next run's removeStaleContainers): no reaper, no lock file in /tmp.
      .withAutoCleanup(false)
      .withLogConsumer((stream) => {
        stream.on('data', (d: string | Buffer) => output.push(String(d)));
        stream.on('error', () => {});
      })
      .start();
    // testcontainers notices a container that died only when its wait times out: fail as soon as it exits.
    const started = await Promise.race([starting, died.exited]).finally(died.stop);
    const containerId = started.getId();
    const server: Server = {
      description: `throwaway PostgreSQL (Docker container ${containerId.slice(0, 12)} from ${image}, port 127.0.0.1:${started.getPort()})`,
      admin: { host: '127.0.0.1', port: started.getPort(), user: SUPERUSER, password, database: 'postgres' },
      throwaway: true,
      shutdown,
    };
    await scope.checkpoint('engine-started');
    // From here the Engine (server.ts) is tracked and stops us.
    scope.untrack(resource);
    return server;
  } catch (e) {
    if (e instanceof RecoverError) {
      await shutdown();
      throw e;
    }
    const logs = lastLines(output) || (await lastLogLines(client, run)) || (await new Promise((r) => setTimeout(r, 300)), lastLines(output));
    await shutdown();
    throw new RecoverError('DOCKER_NOT_READY', `the PostgreSQL container from ${image} did not become ready: ${firstLine(e)}`, {
      hint:
        'is it a PostgreSQL image that honours POSTGRES_USER and POSTGRES_PASSWORD, like the official one?' +
        (logs ? ' Its last log lines are shown with --debug' : ' Or use the embedded engine (drop --engine docker)'),
      detail: logs ? `last log lines of the container:\n${logs}` : undefined,
      cause: e,
    });
  }
}

async function loadTestcontainers(): Promise<{ tc: Testcontainers; pgModule: PostgresModule }> {
  // Ryuk, testcontainers' reaper, is asked for only by containers with auto-cleanup, which ours are not.
  // A Docker engine on a local socket publishes our port on this machine's 127.0.0.1. Without this,
  // testcontainers looks for the port on the bridge gateway wherever a /.dockerenv file exists.
  // testcontainers takes this setting from the environment only (no option), so it is the one
  // variable the tool sets, and only when the user has not.
  if (!process.env.TESTCONTAINERS_HOST_OVERRIDE && (process.env.DOCKER_HOST || DEFAULT_SOCKET).startsWith('unix:')) {
    process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  }
  const [tc, pgModule] = await Promise.all([import('testcontainers'), import('@testcontainers/postgresql')]);
  return { tc, pgModule };
}

/**
 * testcontainers publishes ports on every interface; ours goes on 127.0.0.1
 * only, set in the hook it runs just before creating the container.
 */
function localOnly(Base: typeof PostgreSqlContainer, image: string): PostgreSqlContainer {
  class LocalPostgreSqlContainer extends Base {
    protected override async beforeContainerCreated(): Promise<void> {
      this.hostConfig.PortBindings = { [`${PG_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }] };
    }
  }
  return new LocalPostgreSqlContainer(image);
}

/** Pull the image when it is not here; a clear error when that fails. */
async function ensureImage(client: ContainerRuntimeClient, tc: Testcontainers, image: string, log: (m: string) => void): Promise<void> {
  // The name's form was checked with the options (cli/options.ts).
  const name = tc.ImageName.fromString(image);
  if (await client.image.exists(name)) return;
  log(`pulling the image ${image} (once; later runs use the local copy)`);
  try {
    await client.image.pull(name);
  } catch (e) {
    const local = await localPostgresImages(client);
    throw new RecoverError('DOCKER_IMAGE_MISSING', `the image ${image} is not on this machine and could not be pulled: ${firstLine(e)}`, {
      hint:
        `get it where a registry is reachable (docker pull ${image}; docker save/docker load to carry it over)` +
        (local.length ? `, or use an image that is here: --image ${local.slice(0, 3).join(' or --image ')}` : ', or name a local image with --image'),
      cause: e,
    });
  }
}

/** Local images that look like PostgreSQL (name ends in postgres or postgresql), newest first. */
async function localPostgresImages(client: ContainerRuntimeClient): Promise<string[]> {
  try {
    const images = await client.container.dockerode.listImages();
    return images
      .sort((a, b) => b.Created - a.Created)
      .flatMap((i) => i.RepoTags ?? [])
      .filter((tag) => /(^|\/)postgres(ql)?:/.test(tag));
  } catch {
    return [];
  }
}

/** Where a run is: its pids are its own only within one host name, kernel boot and pid namespace. */
export interface Origin {
  host: string;
  /** '' where it cannot be read (no /proc): then no container is ever judged stale. */
  bootId: string;
  pidNs: string;
}

export function thisOrigin(): Origin {
  const read = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return '';
    }
  };
  return {
    host: hostname(),
    bootId: read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNs: read(() => readlinkSync('/proc/self/ns/pid')),
  };
}

/**
 * Is this container one a killed run left, ours to remove? Only when it
 * was started from here (the same host name, kernel boot and pid namespace:
 * two containers or namespaces sharing a host name and a Docker engine see
 * different processes under the same pid) and its owner's process is gone.
 * A container from before a reboot of this machine is stale once it is not
 * running (its run cannot have survived the reboot). Without labels to tell,
 * never.
 */
export function isStaleContainer(labels: Record<string, string | undefined>, running: boolean, here: Origin, alive: (pid: number) => boolean): boolean {
  const owner = Number(labels[LABEL_PID]);
  if (labels[LABEL] !== '1' || labels[LABEL_HOST] !== here.host || !Number.isInteger(owner) || owner <= 0) return false;
  if (!here.bootId || !here.pidNs || !labels[LABEL_BOOT] || !labels[LABEL_PIDNS]) return false;
  if (labels[LABEL_BOOT] !== here.bootId) return !running;
  return labels[LABEL_PIDNS] === here.pidNs && !alive(owner);
}

/**
 * Remove containers left by runs that were killed (kill -9, power loss):
 * ours, started from here, whose owning process is gone (isStaleContainer).
 * One that cannot be removed is said under --debug and never fails the run.
 */
async function removeStaleContainers(client: ContainerRuntimeClient, log: (m: string) => void, debug: (m: string) => void = () => {}): Promise<number> {
  const ours = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${LABEL}=1`] } });
  const here = thisOrigin();
  let removed = 0;
  for (const c of ours) {
    if (!isStaleContainer(c.Labels, c.State === 'running', here, processAlive)) continue;
    try {
      await removeContainer(client, c.Id);
    } catch (e) {
      debug(`could not remove the stale container ${c.Id.slice(0, 12)}: ${firstLine(e)}`);
      continue;
    }
    log(`removed a PostgreSQL container left by an interrupted run (process ${c.Labels[LABEL_PID]}, started ${c.Labels[LABEL_STARTED] ?? 'at an unknown time'})`);
    removed++;
  }
  return removed;
}

async function removeContainers(client: ContainerRuntimeClient, label: string): Promise<void> {
  const found = await client.container.dockerode.listContainers({ all: true, filters: { label: [label] } });
  for (const c of found) await removeContainer(client, c.Id);
}

/** Kill and remove at once, with the anonymous volumes an image may declare (the official one does). */
async function removeContainer(client: ContainerRuntimeClient, id: string): Promise<void> {
  try {
    await client.container.dockerode.getContainer(id).remove({ force: true, v: true });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 409) throw e; // gone already, or being removed
  }
}

/** Rejects when this run's container has exited; stays pending while it runs, until watch.done. */
/**
 * The run's container dying, from Docker's event stream (`die`, which carries the exit code):
 * it is seen even when the container is removed at once (auto-remove), which a listing of
 * exited containers can miss. `since` replays an event from before the stream was open.
 */
async function watchDeath(client: ContainerRuntimeClient, run: string): Promise<{ exited: Promise<never>; stop: () => void }> {
  const stream = (await client.container.dockerode.getEvents({
    since: Math.floor(Date.now() / 1000) - 1,
    filters: { type: ['container'], event: ['die'], label: [`${LABEL_RUN}=${run}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const exited = new Promise<never>((_, reject) => {
    let pending = '';
    stream.on('data', (d: Buffer | string) => {
      pending += String(d);
      const end = pending.indexOf('\n');
      if (end < 0) return;
      let code: unknown;
      try {
        code = (JSON.parse(pending.slice(0, end)) as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes?.exitCode;
      } catch {
        code = undefined;
      }
      reject(new Error(`the container exited${code === undefined ? '' : ` with code ${String(code)}`}`));
    });
    stream.on('error', () => {});
  });
  exited.catch(() => {}); // raced against the start; unobserved once the start wins
  return { exited, stop: () => stream.destroy() };
}

function lastLines(chunks: readonly string[]): string {
  return chunks.join('').trimEnd().split('\n').slice(-LOG_LINES).join('\n');
}

async function lastLogLines(client: ContainerRuntimeClient, run: string): Promise<string> {
  try {
    const [c] = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${run}`] } });
    if (!c) return '';
    const raw = await client.container.dockerode.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: LOG_LINES, follow: false });
    return demux(raw).trimEnd();
  } catch {
    return '';
  }
}

/**
 * Docker multiplexes a container's stdout and stderr in one stream: frames
 * of an 8-byte header (stream type, 3 zero bytes, big-endian length) and the
 * payload (Docker Engine API, "Attach to a container", stream format).
 */
function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && raw[at + 1] === 0 && raw[at + 2] === 0 && raw[at + 3] === 0) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return at === 0 ? raw.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/**
 * Can we talk to the Docker engine at `endpoint`? A GET /_ping answers
 * without touching anything; any HTTP answer means yes. Endpoints we cannot
 * probe this simply (ssh://, TLS) are left to testcontainers.
 */
async function probe(endpoint: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new RecoverError('DOCKER_HOST_INVALID', `DOCKER_HOST=${endpoint} is not a URL`, {
      hint: 'use the form unix:///var/run/docker.sock or tcp://host:2375, or unset DOCKER_HOST',
    });
  }
  const target =
    url.protocol === 'unix:' ? { socketPath: url.pathname }
    : url.protocol === 'tcp:' && process.env.DOCKER_TLS_VERIFY !== '1' ? { host: url.hostname, port: Number(url.port || 2375) }
    : undefined;
  if (!target) return;
  const failure = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const req = http.get({ ...target, path: '/_ping', timeout: 5000 }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('no answer within 5 s'), { code: 'ETIMEDOUT' })));
    req.once('error', (e) => resolve(e));
  });
  if (!failure) return;
  if (failure.code === 'EACCES' || failure.code === 'EPERM') {
    throw new RecoverError('DOCKER_PERMISSION', `permission denied on the Docker socket ${url.pathname}`, {
      hint: 'add your user to the docker group (sudo usermod -aG docker $USER, then log in again), or use the embedded engine (drop --engine docker)',
    });
  }
  throw unreachable(endpoint, failure.code ?? failure.message, failure);
}

function unreachable(endpoint: string, why: string, cause: unknown): RecoverError {
  return new RecoverError('DOCKER_UNREACHABLE', `no Docker engine is reachable at ${endpoint} (${why})`, {
    hint: 'start Docker or set DOCKER_HOST to where it runs, or use the embedded engine (drop --engine docker)',
    cause,
  });
}

/** The first line of an error's message, without dockerode's "(HTTP code 500) server error - " prefix. */
function firstLine(e: unknown): string {
  const line = String((e as Error)?.message ?? e).split('\n')[0]!;
  return line.replace(/^\(HTTP code \d+\) [a-z ]+- /, '').trim().slice(0, 300);
}
