import type pg from 'pg';
import type { Disposable } from '../resources.js';

/** A throwaway database, ready for connections, removed by stop(). */
export interface Scratch extends Disposable {
  /** What it is, for --debug and inspect output. */
  readonly description: string;
  /** How to connect (node-postgres client config). */
  config: pg.ClientConfig;
  /**
   * stop() removes the whole server (a throwaway cluster), so databases
   * created on it go with it. False for `url`: only the scratch database
   * itself is dropped, so anything else created there must be dropped too.
   */
  readonly removesServer: boolean;
  /** Remove the database and everything it made. Safe to call twice. */
  stop(): Promise<void>;
}

export type EngineKind = 'embedded' | 'system' | 'url' | 'docker';

export interface EngineConfig {
  kind: EngineKind;
  /** system: directory holding initdb and postgres. */
  pgBin?: string;
  /** url: a server where a scratch database may be created and dropped. */
  databaseUrl?: string;
  /** docker: the PostgreSQL image to run. */
  image?: string;
  log: (message: string) => void;
}

/** What an engine file provides: a running server we may create databases on. */
export interface Server {
  /** For --debug and notes, e.g. "embedded PostgreSQL 17.10 in /tmp/recover-texts-..." */
  readonly description: string;
  /** A superuser (or CREATEDB) connection to a maintenance database on it. */
  readonly admin: pg.ClientConfig;
  /** True when shutdown() removes the whole server (throwaway cluster, container). */
  readonly throwaway: boolean;
  /** Remove the server (cluster dir, container). Must be safe to call twice. */
  shutdown(): Promise<void>;
}
