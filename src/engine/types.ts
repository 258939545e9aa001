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

export type EngineKind = 'embedded' | 'system' | 'url';

export interface EngineConfig {
  kind: EngineKind;
  /** system: directory holding initdb and postgres. */
  pgBin?: string;
  /** url: a server where a scratch database may be created and dropped. */
  databaseUrl?: string;
  /** embedded, system: false (--no-cache) initialises every cluster afresh instead of copying the cached template. */
  cache?: boolean;
  log: (message: string) => void;
}
