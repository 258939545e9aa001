/**
 * The `url` engine: a scratch database on a server the admin names. A
 * uniquely named database is created, used, and dropped; no other database
 * on that server is read or touched.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { RecoverError } from '../errors.js';
import { once, track, untrack } from '../resources.js';
import type { Scratch } from './types.js';

export const SCRATCH_DB_PREFIX = 'recover_texts_';

export async function startUrlScratch(databaseUrl: string): Promise<Scratch> {
  let url: URL;
  try {
    url = new URL(databaseUrl);
    if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('not a postgresql: URL');
  } catch {
    throw new RecoverError('ENGINE_URL_INVALID', 'usage', '--database-url is not a valid URL', {
      hint: 'use the form postgresql://user:password@host:5432/postgres',
    });
  }
  const admin: pg.ClientConfig = { connectionString: databaseUrl };
  const name = SCRATCH_DB_PREFIX + randomBytes(6).toString('hex');
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`));
  const stop = once(async () => {
    untrack(scratch);
    await withClient(admin, (c) => dropDatabases(c, [name]));
  });
  const host = url.host || url.searchParams.get('host') || 'localhost';
  const scratch: Scratch = track({
    label: `scratch database ${name} on ${host}`,
    description: `scratch database ${name} on ${host}`,
    config: databaseConfig(admin, name),
    removesServer: false,
    dispose: stop,
    stop,
  });
  return scratch;
}

/** A connection config pointed at another database on the same server. */
export function databaseConfig(config: pg.ClientConfig, database: string): pg.ClientConfig {
  if (!config.connectionString) return { ...config, database };
  // node-postgres lets a connection string override explicit fields, so the database is named in the URL.
  const url = new URL(config.connectionString);
  url.pathname = `/${database}`;
  return { ...config, connectionString: url.href };
}

/** Drop these databases, closing their connections first where the server can (PostgreSQL 13+). */
export async function dropDatabases(client: pg.Client, names: readonly string[]): Promise<void> {
  const v = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num);
  for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name}${v >= 130000 ? ' WITH (FORCE)' : ''}`);
}

async function withClient<T>(config: pg.ClientConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  try {
    await client.connect();
  } catch (e) {
    throw new RecoverError('ENGINE_URL_CONNECT', 'engine', `cannot connect to the --database-url server: ${(e as Error).message}`, {
      hint: 'check the URL, that the server runs, and that the user may CREATE DATABASE',
    });
  }
  try {
    return await fn(client);
  } catch (e) {
    const err = e as { code?: string; message: string };
    throw new RecoverError('ENGINE_URL_FAILED', 'engine', `the --database-url server refused: ${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ''}`, {
      hint: 'the user needs the CREATEDB privilege',
      cause: e,
    });
  } finally {
    await client.end().catch(() => {});
  }
}
