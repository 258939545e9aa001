/**
 * The throwaway cluster over 127.0.0.1, as it runs where no Unix socket can be used
 * (Windows; a temp folder so deep that the socket's path passes the platform's limit),
 * chosen here on Linux with RECOVER_TEXTS_TRANSPORT=tcp: the same exports as over the
 * socket, one role let in by a password of this run, nobody else, and the password in
 * no file. Real embedded PostgreSQL, and psql for another OS user's attempts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tcpAsked } from '../src/cli/options.js';
import { useTcp } from '../src/engine/cluster.js';
import { startEngine, type Engine } from '../src/engine/index.js';
import { RecoverError } from '../src/errors.js';
import { Scope } from '../src/scope.js';
import { DEMO, expectCleanError, expectNothingLeft, filesContaining, makeTmp, processesMentioning, removeTmp, runCli } from './helpers.js';

const PSQL = '/usr/lib/postgresql/15/bin/psql';
const RUNUSER = '/usr/sbin/runuser';

let tmp: string;
let xdg: string;
let savedEnv: { TMPDIR?: string; XDG_CACHE_HOME?: string };
beforeEach(() => {
  tmp = makeTmp('tcp');
  xdg = makeTmp('tcp-xdg');
  savedEnv = { TMPDIR: process.env.TMPDIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
  process.env.TMPDIR = tmp; // the cluster goes here, where this test can look and nobody else's runs are
  process.env.XDG_CACHE_HOME = xdg;
});
/** Every scope a test made, ended after it even when an assertion failed half-way. */
const scopes: Scope[] = [];
const newScope = (): Scope => {
  const scope = new Scope();
  scopes.push(scope);
  return scope;
};
afterEach(async () => {
  for (const scope of scopes.splice(0)) await scope.end();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    expectNothingLeft(tmp);
  } finally {
    removeTmp(tmp);
    removeTmp(xdg);
  }
});

async function tcpEngine(scope: Scope): Promise<Engine> {
  return startEngine({ kind: 'embedded', tcp: true, log: () => {} }, scope);
}

/** Connect with `config`; the server's refusal (SQLSTATE and message), or 'connected'. */
async function attempt(config: pg.ClientConfig): Promise<string> {
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await client.connect();
    return 'connected';
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('when a Unix socket cannot be used', () => {
  it('on Windows, where the socket path is too long for the platform, or when asked', () => {
    const dirOf = (fileLength: number) => '/' + 'd'.repeat(fileLength - '/.s.PGSQL.5432'.length - 1);
    expect(useTcp('/tmp/recover-texts-x/socket', false, 'linux')).toBe(false);
    expect(useTcp('/tmp/recover-texts-x/socket', true, 'linux')).toBe(true);
    expect(useTcp('C:\\Temp\\recover-texts-x\\socket', false, 'win32')).toBe(true);
    // sun_path holds 108 bytes on Linux, 104 on macOS, each with its closing NUL.
    expect(useTcp(dirOf(107), false, 'linux')).toBe(false);
    expect(useTcp(dirOf(108), false, 'linux')).toBe(true);
    expect(useTcp(dirOf(103), false, 'darwin')).toBe(false);
    expect(useTcp(dirOf(104), false, 'darwin')).toBe(true);
    // Bytes, not characters.
    expect(useTcp('/' + 'é'.repeat(50) + '/socket', false, 'darwin')).toBe(true);
  });

  it('RECOVER_TEXTS_TRANSPORT is tcp or auto (or unset); anything else is a usage error', () => {
    expect(tcpAsked(undefined)).toBe(false);
    expect(tcpAsked('')).toBe(false);
    expect(tcpAsked('auto')).toBe(false);
    expect(tcpAsked('tcp')).toBe(true);
    expect(() => tcpAsked('TCP/IP')).toThrow(RecoverError);
    try {
      tcpAsked('udp');
    } catch (e) {
      expect((e as RecoverError).code).toBe('TRANSPORT_INVALID');
    }
  });

  it('a temp folder too deep for a socket gets the server on 127.0.0.1 without being asked', async () => {
    const deep = join(tmp, 'd'.repeat(90));
    mkdirSync(deep, { mode: 0o755 });
    process.env.TMPDIR = deep;
    const scope = newScope();
    const engine = await startEngine({ kind: 'embedded', log: () => {} }, scope);
    const config = engine.clientConfig(await engine.database());
    expect(config.host).toBe('127.0.0.1');
    expect(engine.description).toContain('127.0.0.1');
    const c = await engine.connect(await engine.database());
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
    await scope.end();
    expectNothingLeft(deep);
    rmdirSync(deep);
  });
});

describe('the throwaway cluster over 127.0.0.1', () => {
  it('lets in only its role, from 127.0.0.1, with the run\'s password; no socket; nothing left after', async () => {
    const scope = newScope();
    const engine = await tcpEngine(scope);
    const database = await engine.database();
    const config = engine.clientConfig(database);
    expect(config).toMatchObject({ host: '127.0.0.1', user: 'recover' });
    expect(typeof config.password).toBe('string');
    expect(String(config.password).length).toBeGreaterThanOrEqual(40);

    const c = await engine.connect(database);
    const setting = async (name: string) => (await c.query(`SELECT setting FROM pg_settings WHERE name = $1`, [name])).rows[0].setting;
    expect(await setting('listen_addresses')).toBe('127.0.0.1');
    expect(await setting('unix_socket_directories')).toBe('');
    expect(await setting('port')).toBe(String(config.port));
    const rules = (await c.query('SELECT type, database, user_name, address, auth_method, error FROM pg_hba_file_rules')).rows;
    expect(rules).toEqual([{ type: 'host', database: ['all'], user_name: ['recover'], address: '127.0.0.1', auth_method: 'scram-sha-256', error: null }]);
    const clusterDir = dirname(String((await c.query('SHOW data_directory')).rows[0].data_directory));
    await c.end();

    // A wrong password and another role are refused by the server.
    expect(await attempt({ ...config, password: 'wrong' })).toMatch(/^28P01: password authentication failed for user "recover"/);
    expect(await attempt({ ...config, user: 'postgres' })).toMatch(/^28000: no pg_hba.conf entry/);

    expect(existsSync(clusterDir)).toBe(true);
    await scope.end();
    expect(scope.liveCount).toBe(0);
    expect(existsSync(clusterDir)).toBe(false);
  });

  it('writes its password into no file (the cluster\'s dir, the cache) and no command line, while it runs and after', async () => {
    const scope = newScope();
    const engine = await tcpEngine(scope);
    const password = String(engine.clientConfig('postgres').password);
    const c = await engine.connect(await engine.database());
    // Work as a run does, so that the WAL and the log have something in them.
    await c.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');
    await c.query('CHECKPOINT');
    await c.end();
    expect(filesContaining(tmp, password)).toEqual([]);
    expect(filesContaining(xdg, password)).toEqual([]);
    // Nor on any command line (ps), the server's included.
    expect(processesMentioning(password)).toEqual([]);
    expect(processesMentioning(tmp).length).toBeGreaterThan(0);
    // The template in the cache holds no verifier either: each run sets its own.
    expect(filesContaining(xdg, 'SCRAM-SHA-256$')).toEqual([]);
    await scope.end();
    expect(filesContaining(xdg, password)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync(RUNUSER) || !existsSync(PSQL))(
    'another local user cannot log in: no password, or a wrong one, is refused (needs root, runuser and Debian\'s psql 15)',
    async () => {
      const scope = newScope();
      const engine = await tcpEngine(scope);
      const { port } = engine.clientConfig('postgres');
      const psqlAsNobody = (password?: string) =>
        new Promise<{ code: number; stderr: string }>((resolve) => {
          const env = { PATH: '/usr/bin:/bin', ...(password ? { PGPASSWORD: password } : {}) };
          execFile(RUNUSER, ['-u', 'nobody', '--', PSQL, '-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'recover', '-d', 'postgres', '-c', 'SELECT 1'], { env, cwd: '/' }, (err, _out, stderr) =>
            resolve({ code: err ? Number(err.code) : 0, stderr }),
          );
        });
      const without = await psqlAsNobody();
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/no password supplied|password authentication failed/);
      const wrong = await psqlAsNobody('not-the-password');
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('password authentication failed for user "recover"');
      // The same psql, given the password, gets in: what kept it out was the password.
      const right = await psqlAsNobody(String(engine.clientConfig('postgres').password));
      expect(right.stderr).toBe('');
      expect(right.code).toBe(0);
      await scope.end();
    },
  );
});

describe('an export through the command over 127.0.0.1', () => {
  it('prints exactly what it prints over the socket, and leaves nothing behind', async () => {
    const overSocket = await runCli(['export', DEMO, '-u', 'alice', '--format', 'json'], { tmp, env: { XDG_CACHE_HOME: xdg } });
    const overTcp = await runCli(['export', DEMO, '-u', 'alice', '--format', 'json'], { tmp, env: { XDG_CACHE_HOME: xdg, RECOVER_TEXTS_TRANSPORT: 'tcp' } });
    expect(overSocket.code, overSocket.stderr).toBe(0);
    expect(overTcp.code, overTcp.stderr).toBe(0);
    expect(overTcp.stdout.length).toBeGreaterThan(100);
    expect(overTcp.stdout).toBe(overSocket.stdout);
  });

  it('a RECOVER_TEXTS_TRANSPORT it does not know is one clean line, before anything starts', async () => {
    const r = await runCli(['export', DEMO, '-u', 'alice'], { tmp, env: { RECOVER_TEXTS_TRANSPORT: 'udp' } });
    expect(r.code).toBe(2);
    const { message, hint } = expectCleanError(r);
    expect(message).toContain('RECOVER_TEXTS_TRANSPORT must be tcp or auto');
    expect(hint).toContain('RECOVER_TEXTS_TRANSPORT=tcp');
  });
});
