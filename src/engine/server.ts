/**
 * The one engine contract: any Server (a cluster, a container, an admin's
 * server) becomes an Engine that creates, connects to and drops scratch
 * databases, and removes everything it made when stopped, also on a signal.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgDiagnostics, RecoverError, sqlstateOf } from '../errors.js';
import type { Scope } from '../scope.js';
import type { Engine, Server } from './types.js';

/** Every database this tool creates is named so; a stale one is easy to spot and drop. */
const SCRATCH_DB_PREFIX = 'recover_texts_';

export function engineOn(server: Server, scope: Scope): Engine {
  const clientConfig = (database: string): pg.ClientConfig => onDatabase(server.admin, database);
  const connect = async (config: pg.ClientConfig): Promise<pg.Client> => {
    const client = new pg.Client(config);
    // A server stopped under the client (on a signal) is reported through the
    // failing query, if any; the client's own 'error' event must not crash the run.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => {});
      throw new RecoverError('ENGINE_CONNECT', `cannot connect to the ${server.description}: ${(e as Error).message}`, {
        hint: server.throwaway ? 'run with --debug for details' : 'check the URL, that the server runs, and that the user may CREATE DATABASE',
        cause: e,
      });
    }
    return client;
  };
  const asAdmin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = await connect(server.admin);
    try {
      return await fn(client);
    } catch (e) {
      throw refused(e, server);
    } finally {
      await client.end().catch(() => {});
    }
  };

  /** The scratch database we created on an admin's server, to drop at the end. */
  let created: string | undefined;
  let database: Promise<string> | undefined;
  const makeDatabase = async (): Promise<string> => {
    // A throwaway server's maintenance database is empty and goes with the
    // server: no CREATE DATABASE, and no template database needed (engine/cluster.ts drops them).
    if (server.throwaway && typeof server.admin.database === 'string') return server.admin.database;
    const name = `${SCRATCH_DB_PREFIX}${randomBytes(4).toString('hex')}`;
    await asAdmin((c) => c.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`));
    created = name;
    return name;
  };

  const stop = scope.once(async () => {
    scope.untrack(tracked);
    try {
      // A throwaway server takes its database with it; an admin's keeps it unless dropped.
      if (created) await asAdmin((c) => dropDatabase(c, created!));
    } finally {
      await server.shutdown();
    }
  });
  const tracked = scope.track({ label: server.description, dispose: stop });

  return {
    description: server.description,
    scratch: server.scratch,
    database: () => (database ??= makeDatabase()),
    connect: (name) => connect(clientConfig(name)),
    clientConfig,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A connection config pointed at another database on the same server. */
function onDatabase(config: pg.ClientConfig, database: string): pg.ClientConfig {
  if (!config.connectionString) return { ...config, database };
  // node-postgres lets a connection string override explicit fields, so the database is named in the URL.
  const url = new URL(config.connectionString);
  url.pathname = `/${database}`;
  return { ...config, connectionString: url.href };
}

/** Drop the database, closing its connections first where the server can (PostgreSQL 13+). */
async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  const v = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num);
  await client.query(`DROP DATABASE IF EXISTS ${name}${v >= 130000 ? ' WITH (FORCE)' : ''}`);
}

function refused(e: unknown, server: Server): unknown {
  if (e instanceof RecoverError) return e;
  const err = e as { message: string };
  const state = sqlstateOf(e);
  return new RecoverError('ENGINE_REFUSED', `the ${server.description} refused: ${err.message}${state ? ` (SQLSTATE ${state})` : ''}`, {
    hint: server.throwaway ? 'run with --debug for details' : 'the user needs the CREATEDB privilege',
    pg: pgDiagnostics(e),
    cause: e,
  });
}
