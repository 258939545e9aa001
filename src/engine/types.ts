import type pg from 'pg';
import type { ScratchRoot } from '../tempdir.js';

export type Log = (message: string) => void;

/**
 * How to get a throwaway PostgreSQL, resolved once from the command line
 * (cli/options.ts). Each kind carries exactly what it needs.
 */
export type EngineConfig = (
  | {
      kind: 'embedded';
      /** Copy the cached data directory (engine/template.ts); false: --no-cache. Default true. */ cache?: boolean;
      /**
       * Listen on 127.0.0.1 with a password of this run even where a Unix socket would do
       * (RECOVER_TEXTS_TRANSPORT=tcp, so that Linux tests the path Windows always takes). See cluster.ts.
       */
      tcp?: boolean;
    }
  | { kind: 'system'; /** Directory holding initdb and postgres (else PATH and the usual places). */ pgBin?: string; /** As for embedded. */ cache?: boolean; /** As for embedded. */ tcp?: boolean }
  | { kind: 'url'; /** A server where a scratch database may be created and dropped. */ databaseUrl: string }
  | { kind: 'docker'; /** The PostgreSQL image to run, e.g. postgres:17. */ image: string }
) & {
  /** Notes for the user (stderr, not with --quiet). */
  log: Log;
  /** Detail shown with --debug only, e.g. what the removal of a stale cluster or container could not do. */
  debug?: Log;
};

export type EngineKind = EngineConfig['kind'];

/**
 * What one engine file provides: a running server on which databases may be
 * created. server.ts turns it into an Engine; the rest of the tool sees only
 * that.
 */
export interface Server {
  /** For notes and --debug, e.g. "embedded PostgreSQL 17.10, private socket in /tmp/...". */
  readonly description: string;
  /** A connection that may CREATE DATABASE, to a maintenance database on the server. */
  readonly admin: pg.ClientConfig;
  /**
   * True when shutdown() removes the whole server (a throwaway cluster or
   * container), so the databases made on it go with it. False for `url`:
   * every database made there is dropped before shutdown().
   */
  readonly throwaway: boolean;
  /**
   * The folder on this machine its data lives in (a throwaway cluster's), for
   * the load budget and for messages when it fills; none when the server's
   * disk is not ours to measure (a container, an admin's server).
   */
  readonly scratch?: ScratchRoot;
  /** Remove the server (cluster, container); nothing for `url`. Safe to call twice. */
  shutdown(): Promise<void>;
}

/** A started engine, as the session sees it: it never knows which kind it has. */
export interface Engine extends AsyncDisposable {
  readonly description: string;
  /** As Server.scratch: where its data lives on this machine, when it does. */
  readonly scratch?: ScratchRoot;
  /**
   * The session's scratch database, empty when first asked for, the same
   * one after: a throwaway server's own maintenance database (it goes with
   * the server), else a new UTF8 database named with SCRATCH_DB_PREFIX,
   * dropped by stop(). A session loads all its backups into it, a schema
   * each when there are several.
   */
  database(): Promise<string>;
  /**
   * What the session's schema `name` (`public`, `backup_3`) is called in that
   * database: `name` itself, or with this run's prefix where the session works
   * inside an admin's own database (a --database-url user without CREATEDB).
   * Known once database() has resolved.
   */
  schema(name: string): string;
  /** A connected client on one of our databases; its 'error' event is handled. */
  connect(database: string): Promise<pg.Client>;
  /** How to connect to one of our databases (for tools such as psql, and tests). */
  clientConfig(database: string): pg.ClientConfig;
  /** Drop what we made, remove the server. Safe to call twice. */
  stop(): Promise<void>;
}
