/**
 * The docker engine against a real Docker engine: fixtures export exactly
 * as through the embedded engine; a run interrupted at any point, even while
 * its container starts, leaves no container; a run killed with -9 leaves one
 * that the next run removes (and no one else's); each failure is one clean
 * line; and other engines never load Docker code.
 *
 * The image is RECOVER_TEXTS_TEST_IMAGE, by default recover-texts-test/postgres:15,
 * which .ci/docker.sh builds without a registry. Without a reachable Docker
 * engine or that image, every test here is skipped, saying which is missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { findPgRestore } from '../src/source/index.js';
import { readArchiveInfo } from '../src/detect/index.js';
import { renderJson } from '../src/export/index.js';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { thisOrigin } from '../src/engine/index.js';
import { CLI, DEMO, FIXTURES, ROOT, expectCleanError, expectNothingLeft, makeTmp, readmeSection, removeTmp, runCli } from './helpers.js';
import { Scope } from '../src/scope.js';

const IMAGE = process.env.RECOVER_TEXTS_TEST_IMAGE ?? 'recover-texts-test/postgres:15';
const LABEL = 'org.recover-texts';
/** An image whose container exits at once, made from IMAGE for the "never ready" case. */
const BROKEN = 'recover-texts-test/broken:1';

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
}

/** Why the tests here cannot run on this machine, or null when they can. */
function dockerUnavailable(): string | null {
  try {
    docker(['version', '--format', '{{.Server.Version}}']);
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    if (err.code === 'ENOENT') return 'no docker command on this machine (CI installs it with .ci/docker.sh)';
    return `no Docker engine reachable: ${String(err.stderr ?? '').trim().split('\n').at(-1)} (CI starts one with .ci/docker.sh)`;
  }
  try {
    docker(['image', 'inspect', IMAGE]);
  } catch {
    return `the test image ${IMAGE} is not on this machine (build it with .ci/docker.sh, or set RECOVER_TEXTS_TEST_IMAGE)`;
  }
  return null;
}

const unavailable = dockerUnavailable();
if (unavailable) process.stderr.write(`docker-engine tests skipped: ${unavailable}\n`);

function needDocker(ctx: TestContext): void {
  if (unavailable) ctx.skip(unavailable);
}

/** Our containers (label org.recover-texts=1): id and owner pid. */
function ourContainers(): { id: string; owner: number; host: string }[] {
  const out = docker(['ps', '-a', '--filter', `label=${LABEL}=1`, '--format', `{{.ID}} {{.Label "${LABEL}.owner-pid"}} {{.Label "${LABEL}.owner-host"}}`]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, owner, host] = l.split(' ');
      return { id: id!, owner: Number(owner), host: host ?? '' };
    });
}

/** Every CLI process this file started, and the test process itself: none may own a container at the end. */
const owners = new Set<number>([process.pid]);
const engineArgs = ['--engine', 'docker', '--image', IMAGE];

let tmp: string;
let work: string;
beforeAll(() => {
  tmp = makeTmp('docker-tmp');
  work = makeTmp('docker-work');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(work);
});

const docker_ = (image: string, timezone = 'UTC'): SessionConfig => ({ engine: { kind: 'docker', image, log: () => {} }, scope: new Scope(), timezone, log: () => {} });
const embedded = (timezone = 'UTC'): SessionConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone, log: () => {} });

/** Every student's export of `path`, through one engine. */
async function exportAll(path: string, students: string[], config: SessionConfig): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await withBackup(path, config, async (b) => {
    for (const s of students) out.set(s, renderJson(await b.query.texts(await b.query.findUser(s))));
  });
  return out;
}

interface Case {
  label: string;
  path: string;
  expected: string;
}
const GENERATED = join(FIXTURES, 'generated');
const cases: Case[] = [
  { label: 'the demo backup (gzip)', path: DEMO, expected: join(FIXTURES, 'demo', 'expected') },
  { label: 'current schema, plain.sql.gz', path: join(GENERATED, 'current', 'plain.sql.gz'), expected: join(GENERATED, 'current', 'expected') },
  { label: 'mid-2023 schema, --inserts', path: join(GENERATED, 'mid2023', 'inserts.sql'), expected: join(GENERATED, 'mid2023', 'expected') },
  { label: 'legacy schema, custom archive', path: join(GENERATED, 'legacy', 'custom.dump'), expected: join(GENERATED, 'legacy', 'expected') },
  { label: 'big texts, plain.sql.gz', path: join(GENERATED, 'bigtext', 'plain.sql.gz'), expected: join(GENERATED, 'bigtext', 'expected') },
];

describe(`docker engine (${IMAGE})`, () => {
  describe('exports', () => {
    for (const c of cases) {
      it(`${c.label}: every student's export through docker equals the embedded engine's and the expected JSON`, async (ctx) => {
        needDocker(ctx);
        if (c.path.endsWith('.dump')) {
          try {
            findPgRestore(await readArchiveInfo(c.path));
          } catch (e) {
            ctx.skip(`this machine has no pg_restore that can read it: ${(e as Error).message}`);
          }
        }
        const students = readdirSync(c.expected)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length));
        expect(students.length).toBeGreaterThan(0);
        const viaDocker = await exportAll(c.path, students, docker_(IMAGE));
        const viaEmbedded = await exportAll(c.path, students, embedded());
        for (const s of students) {
          const want = readFileSync(join(c.expected, `${s}.json`), 'utf8');
          expect(viaDocker.get(s), `${s} via docker`).toBe(want);
          expect(viaEmbedded.get(s), `${s} via embedded`).toBe(want);
        }
      });
    }

    it('the CLI: export --engine docker writes the expected JSON and leaves no container, temp dir or process', async (ctx) => {
      needDocker(ctx);
      const r = await runCli(['export', DEMO, '-u', 'alice', ...engineArgs], { tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
      expectNothingLeft(tmp);
      expect(ourContainers().filter((c) => c.host === hostname() && c.owner !== process.pid)).toEqual([]);
    });
  });

  describe('interruptions', () => {
    /** Start the CLI; resolves once `ready(stderr)` holds. */
    function startCli(args: string[], env: NodeJS.ProcessEnv, ready: (stderr: string) => boolean): Promise<ChildProcess> {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      owners.add(child.pid!);
      return new Promise((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d) => {
          err += d;
          if (ready(err)) resolve(child);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} too early: ${err}`)));
      });
    }
    const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ownedBy = (pid: number) => ourContainers().filter((c) => c.owner === pid);

    for (const [stage, signal, code] of [
      ['engine-started', 'SIGTERM', 143],
      ['loading', 'SIGINT', 130],
      ['writing', 'SIGTERM', 143],
    ] as const) {
      it(`${signal} while ${stage}: exit ${code}, its container is gone`, async (ctx) => {
        needDocker(ctx);
        const target = join(work, `${stage}.json`);
        const child = await startCli(['export', DEMO, '-u', 'alice', '--out', target, ...engineArgs], { RECOVER_TEXTS_PAUSE_AT: stage }, (e) => e.includes(`paused at ${stage}`));
        expect(ownedBy(child.pid!)).toHaveLength(1); // live while paused
        const done = exited(child);
        child.kill(signal);
        expect(await done).toBe(code);
        expect(ownedBy(child.pid!)).toEqual([]);
        expect(readdirSync(work).filter((n) => n.startsWith(stage))).toEqual([]);
        expectNothingLeft(tmp);
      });
    }

    it('SIGINT while the container is still starting (before it is ready): exit 130, the container is gone', async (ctx) => {
      needDocker(ctx);
      // Once ready, the run would pause at engine-started and say so: if it never says so, the signal came first.
      const child = spawn(process.execPath, [CLI, 'export', DEMO, '-u', 'alice', ...engineArgs], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmp, RECOVER_TEXTS_PAUSE_AT: 'engine-started' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      owners.add(child.pid!);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const done = exited(child);
      // The moment Docker lists it, the container exists but testcontainers still waits for PostgreSQL.
      let seen = false;
      for (let k = 0; k < 600 && !seen && child.exitCode === null; k++) {
        seen = ownedBy(child.pid!).length > 0;
        if (!seen) await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen).toBe(true);
      child.kill('SIGINT');
      expect(await done).toBe(130);
      expect(stderr, 'the container was ready before the signal').not.toContain('paused at engine-started');
      expect(ownedBy(child.pid!)).toEqual([]);
    });

    it("after kill -9, the next run removes the dead run's container, and only such containers (not another pid namespace's on this host)", async (ctx) => {
      needDocker(ctx);
      // Ours but alive (this test process), ours from another machine, and ours from another pid namespace on
      // this host and boot whose owner pid means nothing here (running): all must stay.
      const { bootId } = thisOrigin();
      const decoys = [
        docker([
          'run', '-d', '--label', `${LABEL}=1`, '--label', `${LABEL}.owner-pid=999999`, '--label', `${LABEL}.owner-host=${hostname()}`,
          '--label', `${LABEL}.owner-boot-id=${bootId}`, '--label', `${LABEL}.owner-pid-ns=pid:[1]`, '-e', 'POSTGRES_PASSWORD=x', IMAGE,
        ]),
        docker(['create', '--label', `${LABEL}=1`, '--label', `${LABEL}.owner-pid=${process.pid}`, '--label', `${LABEL}.owner-host=${hostname()}`, IMAGE]),
        docker(['create', '--label', `${LABEL}=1`, '--label', `${LABEL}.owner-pid=999999`, '--label', `${LABEL}.owner-host=elsewhere.example`, IMAGE]),
      ];
      try {
        const child = await startCli(['export', DEMO, '-u', 'alice', ...engineArgs], { RECOVER_TEXTS_PAUSE_AT: 'loading' }, (e) => e.includes('paused at loading'));
        const done = exited(child);
        child.kill('SIGKILL');
        await done;
        const [stale] = ownedBy(child.pid!);
        expect(stale).toBeDefined(); // the killed run could not remove it
        expect(docker(['inspect', '-f', '{{.State.Running}}', stale!.id])).toBe('true');

        const next = await runCli(['export', DEMO, '-u', 'alice', ...engineArgs], { tmp });
        expect(next.code, next.stderr).toBe(0);
        expect(next.stderr).toMatch(new RegExp(`removed a PostgreSQL container left by an interrupted run \\(process ${child.pid}, started 20`));
        expect(ownedBy(child.pid!)).toEqual([]);
        const left = ourContainers().map((c) => c.id);
        for (const d of decoys) expect(left.some((id) => d.startsWith(id))).toBe(true);
      } finally {
        docker(['rm', '-f', ...decoys]);
      }
    });
  });

  describe('errors: one line with a hint, nothing left', () => {
    const fail = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await runCli(['export', DEMO, '-u', 'alice', ...args], { tmp, env });
      expect(r.code, r.stderr).toBe(6);
      expectNothingLeft(tmp);
      return { r, ...expectCleanError(r) };
    };

    it('--image without --engine docker, or not an image name: a usage error (exit 2) before anything starts', async () => {
      for (const args of [['--image', IMAGE], ['--engine', 'docker', '--image', 'not an image']]) {
        const r = await runCli(['export', DEMO, '-u', 'alice', ...args], { tmp });
        expect(r.code, r.stderr).toBe(2);
        expect(expectCleanError(r).message).toMatch(/--image goes with --engine docker|is not an image name/);
        expectNothingLeft(tmp);
      }
    });

    it('no Docker engine at DOCKER_HOST (a missing socket, a closed port): exit 6, says so, suggests the embedded engine', async (ctx) => {
      needDocker(ctx); // a working engine elsewhere must not be used instead of the one named
      const socket = await fail(['--engine', 'docker', '--image', IMAGE], { DOCKER_HOST: `unix://${join(tmp, 'no-such.sock')}` });
      expect(socket.message).toMatch(/no Docker engine is reachable at unix:\/\/.*no-such\.sock \(ENOENT\)/);
      expect(socket.hint).toMatch(/embedded engine/);
      const port = await fail(['--engine', 'docker', '--image', IMAGE], { DOCKER_HOST: 'tcp://127.0.0.1:1' });
      expect(port.message).toMatch(/no Docker engine is reachable at tcp:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    });

    it('permission denied on the socket (skipped unless root, which can run the CLI as nobody)', async (ctx) => {
      needDocker(ctx);
      if (userInfo().uid !== 0) ctx.skip('needs root to run the CLI as another user');
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'export', DEMO, '-u', 'alice', ...engineArgs], { cwd: ROOT, uid: nobody, gid: nobody, env: { ...process.env, TMPDIR: tmp, DOCKER_HOST: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      if (/permission denied/.test(r.stderr) === false && r.code === 0) ctx.skip('nobody may use the Docker socket here');
      expect(r.code, r.stderr).toBe(6);
      const { message, hint } = expectCleanError({ code: r.code ?? -1, stdout: '', stderr: r.stderr });
      expect(message).toMatch(/permission denied on the Docker socket \/var\/run\/docker\.sock/);
      expect(hint).toMatch(/docker group/);
    });

    it('an image that is not here and cannot be pulled: names it and how to get it', async (ctx) => {
      needDocker(ctx);
      const { message, hint } = await fail(['--engine', 'docker', '--image', 'recover-texts-test/absent:0']);
      expect(message).toMatch(/the image recover-texts-test\/absent:0 is not on this machine and could not be pulled: /);
      expect(hint).toMatch(/docker pull recover-texts-test\/absent:0/);
    });

    it('a container that never becomes ready: says so; --debug shows its last log lines', async (ctx) => {
      needDocker(ctx);
      const base = docker(['create', IMAGE]);
      try {
        docker(['commit', '--change', 'ENTRYPOINT ["/bin/sh", "-c", "echo FATAL: broken on purpose >&2; exit 3"]', base, BROKEN]);
      } finally {
        docker(['rm', base]);
      }
      try {
        const plain = await fail(['--engine', 'docker', '--image', BROKEN]);
        // Which notices first, our exit watcher or testcontainers' health check, is a race; both are true.
        expect(plain.message).toMatch(/the PostgreSQL container from recover-texts-test\/broken:1 did not become ready: (the container exited with code 3|Health check failed: unhealthy)/);
        expect(plain.r.stderr).not.toMatch(/broken on purpose/);
        const r = await runCli(['export', DEMO, '-u', 'alice', '--engine', 'docker', '--image', BROKEN, '--debug'], { tmp });
        expect(r.code).toBe(6);
        expect(r.stderr).toMatch(/last log lines of the container:\nFATAL: broken on purpose/);
        expectNothingLeft(tmp);
      } finally {
        docker(['rmi', BROKEN]);
      }
    });
  });

  it("the README's docker engine examples, run as written but with the test image", (ctx) => {
    needDocker(ctx);
    const readme = readmeSection('### The docker engine', '## Restoring only what was lost');
    expect(readme.commands.length).toBeGreaterThanOrEqual(2);
    readme.setup('docker-readme');
    try {
      for (const command of readme.commands) {
        // The image named (or the default) becomes the test image; everything else runs as written.
        const withImage = / --image \S+/.test(command) ? command.replace(/ --image \S+/, ` --image ${IMAGE}`) : command.replace(' > ', ` --image ${IMAGE} > `);
        expect(withImage).toContain(`--image ${IMAGE}`);
        readme.run(withImage);
        const out = / > (\S+)$/.exec(command)![1]!;
        expect(readFileSync(join(readme.dirs.cwd, out), 'utf8'), command).toBe(readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8'));
      }
      expect(readdirSync(readme.dirs.tmp)).toEqual([]);
    } finally {
      readme.cleanup();
    }
  });

  describe('Docker code is loaded only for the docker engine', () => {
    /** The Docker packages (CommonJS, so in require.cache even when imported from ESM) a CLI run loaded. */
    const loaded = async (args: string[]) => {
      const hook = join(work, 'loaded.mjs');
      writeFileSync(
        hook,
        `import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
process.on('exit', () => writeFileSync(process.env.LOADED_OUT, JSON.stringify(Object.keys(require.cache).filter((k) => /node_modules\\/(testcontainers|@testcontainers|dockerode)\\//.test(k)))));
`,
      );
      const out = join(work, 'loaded.json');
      const r = await runCli(['export', DEMO, '-u', 'alice', ...args], { tmp, env: { NODE_OPTIONS: `--import ${hook}`, LOADED_OUT: out } });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(out, 'utf8')) as string[];
    };

    it('an embedded export loads none of it', async () => {
      expect(await loaded([])).toEqual([]);
    });

    it('a docker export does (so the check above can fail)', async (ctx) => {
      needDocker(ctx);
      expect((await loaded(engineArgs)).length).toBeGreaterThan(0);
    });
  });

  it('leaves no container of its own runs behind (this one\'s docker export, and every run above)', async (ctx) => {
    needDocker(ctx);
    // A run of its own, so that the check has a run to check when this test runs alone.
    const child = spawn(process.execPath, [CLI, 'export', DEMO, '-u', 'alice', ...engineArgs], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    owners.add(child.pid!);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(ourContainers().filter((c) => owners.has(c.owner))).toEqual([]);
  });
});
