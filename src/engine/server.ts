/**
 * The one engine contract: any Server (a cluster, a container, an admin's
 * server) becomes an Engine that creates, connects to and drops scratch
 * databases, and removes everything it made when stopped, also on a signal.
 *
 * An admin's server whose user may not CREATE DATABASE (Heroku Postgres and
 * many hosted plans) is used through scratch schemas in the user's own
 * database instead: every schema the session makes is named with this run's
 * prefix (schema()), connections see only ours on their search_path, and
 * stop() drops every schema with the prefix. Nothing else there is touched.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgDiagnostics, RecoverError, sqlstateOf } from '../errors.js';
import type { Scope } from '../scope.js';
import type { Engine, Log, Server } from './types.js';

/** Every database this tool creates is named so; a stale one is easy to spot and drop. */
const SCRATCH_DB_PREFIX = 'recover_texts_';

export function engineOn(server: Server, scope: Scope, log: Log = () => {}): Engine {
  const clientConfig = (database: string): pg.ClientConfig => onDatabase(server.admin, database);
  /** Set when the session works in scratch schemas of the admin's own database: their names' prefix. */
  let schemaPrefix: string | undefined;
  const schema = (name: string) => (schemaPrefix ? `${schemaPrefix}${name}` : name);
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
        hint: server.throwaway ? 'run with --debug for details' : 'check the URL and that the server runs',
        cause: e,
      });
    }
    // In the admin's own database, unqualified names must never reach its tables.
    if (schemaPrefix) await client.query(`SET search_path TO ${schema('public')}`).catch(async (e: unknown) => {
      await client.end().catch(() => {});
      throw refused(e, server);
    });
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
    try {
      await asAdmin((c) => c.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`));
    } catch (e) {
      if (server.throwaway || !(e instanceof RecoverError) || e.pg?.sqlstate !== INSUFFICIENT_PRIVILEGE) throw e;
      return inOwnDatabase(name);
    }
    created = name;
    return name;
  };
  /** No CREATE DATABASE: the admin's own database, in schemas named `name`_...; the home one made now. */
  const inOwnDatabase = async (name: string): Promise<string> => {
    const own = await asAdmin(async (c) => {
      await c.query(`CREATE SCHEMA ${name}_public`);
      return String((await c.query('SELECT current_database() AS d')).rows[0].d);
    }).catch((e: unknown) => {
      throw e instanceof RecoverError && e.pg?.sqlstate === INSUFFICIENT_PRIVILEGE
        ? new RecoverError('ENGINE_REFUSED', `the ${server.description} lets its user neither create a database nor a schema: ${e.message}`, {
            hint: 'give the user CREATEDB, or CREATE on its database, or use another engine (drop --database-url)',
            pg: e.pg,
            cause: e,
          })
        : e;
    });
    schemaPrefix = `${name}_`;
    log(`the --database-url user may not create a database: working in scratch schemas ${name}_* of its database ${own}, dropped at the end`);
    return own;
  };

  const stop = scope.once(async () => {
    scope.untrack(tracked);
    try {
      // A throwaway server takes its database with it; an admin's keeps it unless dropped.
      if (created) await asAdmin((c) => dropDatabase(c, created!));
      if (schemaPrefix) await asAdmin((c) => dropSchemas(c, schemaPrefix!));
    } finally {
      await server.shutdown();
    }
  });
  const tracked = scope.track({ label: server.description, dispose: stop });

  return {
    description: server.description,
    scratch: server.scratch,
    database: () => (database ??= makeDatabase()),
    schema,
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

/** PostgreSQL's SQLSTATE for "permission denied". */
const INSUFFICIENT_PRIVILEGE = '42501';

/** Drop every schema whose name starts with `prefix` (this run's, in an admin's database), and all in them. */
async function dropSchemas(client: pg.Client, prefix: string): Promise<void> {
  const { rows } = await client.query<{ n: string }>('SELECT quote_ident(nspname) AS n FROM pg_namespace WHERE left(nspname, length($1)) = $1', [prefix]);
  if (rows.length) await client.query(`DROP SCHEMA ${rows.map((r) => r.n).join(', ')} CASCADE`);
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
    hint: server.throwaway ? 'run with --debug for details' : 'the user needs the CREATEDB privilege, or CREATE on its own database',
    pg: pgDiagnostics(e),
    cause: e,
  });
}
