/**
 * The `system` engine: initdb and postgres already on this machine, from
 * --pg-bin DIR, else PATH, else the usual install places (newest first).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import { postgresBinDirs } from '../pg-install.js';
import { startCluster } from './cluster.js';
import type { EngineConfig, Server } from './types.js';

export async function startSystem(config: Extract<EngineConfig, { kind: 'system' }>, scope: Scope): Promise<Server> {
  const dir = config.pgBin ?? postgresBinDirs().find(hasServer);
  if (!dir) {
    throw new RecoverError('ENGINE_SYSTEM_MISSING', 'no PostgreSQL server binaries (initdb, postgres) found on PATH or in the usual places', {
      hint: 'install the PostgreSQL server package, pass --pg-bin DIR, or use the default embedded engine',
    });
  }
  return startCluster({ dir, source: `PostgreSQL in ${dir}` }, config.log, { cache: config.cache !== false, tcp: config.tcp === true, debug: config.debug, scope });
}

/** Does this folder hold a PostgreSQL server (for --pg-bin, checked when options are resolved)? */
export function hasServer(dir: string): boolean {
  const exe = process.platform === 'win32' ? '.exe' : '';
  return existsSync(join(dir, `initdb${exe}`)) && existsSync(join(dir, `postgres${exe}`));
}
