/**
 * engine: a throwaway PostgreSQL behind one small interface.
 * startEngine() returns a Scratch (connection config + stop()).
 */
import { startCluster } from './cluster.js';
import { embeddedBinaries } from './embedded.js';
import { systemBinaries } from './system.js';
import { startUrlScratch } from './url.js';
import type { EngineConfig, Scratch } from './types.js';

export type { EngineConfig, EngineKind, Scratch } from './types.js';
export { removeStaleClusters, TEMP_PREFIX } from './cluster.js';
export { SCRATCH_DB_PREFIX, databaseConfig, dropDatabases } from './url.js';

export async function startEngine(config: EngineConfig): Promise<Scratch> {
  switch (config.kind) {
    case 'embedded':
      return startCluster(embeddedBinaries(), config.log, { cache: config.cache !== false });
    case 'system':
      return startCluster(systemBinaries(config.pgBin), config.log, { cache: config.cache !== false });
    case 'url':
      return startUrlScratch(config.databaseUrl!);
  }
}
