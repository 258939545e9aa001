/**
 * The connections a many-backup session reuses from one backup to the next
 * (session/connections.ts): each use sees the one schema it is handed for,
 * nothing an earlier use set is left (another backup's schema, the loader's
 * client_encoding, the query's time zone), and a connection whose use failed
 * is closed, never handed out again.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../src/engine/index.js';
import { Scope } from '../src/scope.js';
import { Connections } from '../src/session/connections.js';

const scope = new Scope();
let engine: Engine;
let connections: Connections;
let opened: pg.Client[];
/** The connections that were closed. */
const ended = new Set<pg.Client>();

beforeAll(async () => {
  engine = await startEngine({ kind: 'embedded', log: () => {} }, scope);
  const database = await engine.database();
  opened = [];
  connections = new Connections(async () => {
    const client = await engine.connect(database);
    opened.push(client);
    client.once('end', () => ended.add(client));
    return client;
  });
}, 120_000);

afterAll(async () => {
  await connections?.close();
  await engine?.stop();
});

const show = async (c: pg.Client, setting: string) => Object.values((await c.query(`SHOW ${setting}`)).rows[0] as Record<string, string>)[0];

describe('connections reused across backups', () => {
  it("a connection handed for one backup's schema sees none of another's, and keeps none of its settings", async () => {
    const first = await connections.use(
      'backup_a',
      async (c) => {
        await c.query("CREATE TABLE users (username text); INSERT INTO users VALUES ('from_a')");
        await c.query("SET client_encoding TO 'LATIN1'; SET TimeZone TO 'Europe/London'");
        return c;
      },
      true,
    );
    const seen = await connections.use(
      'backup_b',
      async (c) => {
        await c.query('CREATE TABLE tasks (name text)');
        return {
          same: c === first,
          searchPath: await show(c, 'search_path'),
          encoding: await show(c, 'client_encoding'),
          zone: await show(c, 'timezone'),
          users: (await c.query("SELECT to_regclass('users') AS r")).rows[0].r as string | null,
          tasks: (await c.query("SELECT to_regclass('tasks') AS r")).rows[0].r as string | null,
        };
      },
      true,
    );
    // One connection served both uses, and the second saw its own schema alone.
    expect(seen).toEqual({ same: true, searchPath: 'backup_b', encoding: 'UTF8', zone: 'UTC', users: null, tasks: 'tasks' });
    // Back on the first schema, its rows are there as they were.
    const rows = await connections.use('backup_a', async (c) => (await c.query('SELECT username FROM users')).rows);
    expect(rows).toEqual([{ username: 'from_a' }]);
    expect(opened).toHaveLength(1);
  });

  it('uses at once each get a connection of their own', async () => {
    const before = opened.length;
    const pids = await Promise.all(
      ['backup_a', 'backup_b', 'backup_a'].map((schema) => connections.use(schema, async (c) => ((await c.query('SELECT pg_backend_pid() AS p, pg_sleep(0.05)')).rows[0] as { p: number }).p)),
    );
    expect(new Set(pids).size).toBe(3);
    expect(opened.length).toBe(before + 2);
  });

  it('a connection whose use failed is closed, and the next use gets another', async () => {
    const failing = await connections
      .use('backup_a', async (c) => {
        await c.query('SELECT * FROM no_such_table');
        return c;
      })
      .catch((e: Error) => e);
    expect(failing).toBeInstanceOf(Error);
    expect((failing as Error).message).toMatch(/no_such_table/);
    const broken = failing instanceof Error ? undefined : failing;
    await expect.poll(() => ended.size).toBe(1);
    const next = await connections.use('backup_a', async (c) => c);
    expect(ended.has(next)).toBe(false);
    expect(broken).toBeUndefined();
  });

  it('a schema that cannot be set fails the use without handing out a connection set to anything else', async () => {
    const e = await connections.use('backup_a', async () => 'unreached', true).catch((err: Error) => err);
    expect((e as Error).message).toMatch(/already exists/);
    expect(await connections.use('backup_b', async (c) => show(c, 'search_path'))).toBe('backup_b');
  });
});
