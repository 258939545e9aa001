/**
 * engine: a throwaway PostgreSQL behind one small interface.
 * startEngine() returns a Scratch (connection config + stop()).
 */
import { startCluster } from './cluster.js';
import { DEFAULT_IMAGE, startDocker } from './docker.js';
import { embeddedBinaries } from './embedded.js';
import { systemBinaries } from './system.js';
import { startUrlScratch } from './url.js';
import type { EngineConfig, Scratch, Server } from './types.js';

export type { EngineConfig, EngineKind, Scratch } from './types.js';
export { removeStaleClusters, TEMP_PREFIX } from './cluster.js';
export { DEFAULT_IMAGE, LABEL as DOCKER_LABEL } from './docker.js';
export { SCRATCH_DB_PREFIX, databaseConfig, dropDatabases } from './url.js';

export async function startEngine(config: EngineConfig): Promise<Scratch> {
  switch (config.kind) {
    case 'embedded':
      return startCluster(embeddedBinaries(), config.log);
    case 'system':
      return startCluster(systemBinaries(config.pgBin), config.log);
    case 'url':
      return startUrlScratch(config.databaseUrl!);
    case 'docker':
      return serverScratch(await startDocker({ kind: 'docker', image: config.image ?? DEFAULT_IMAGE, log: config.log }));
  }
}

/** A Server seen as a Scratch (the server itself stays tracked until its shutdown). */
function serverScratch(server: Server): Scratch {
  return {
    label: server.description,
    description: server.description,
    config: server.admin,
    removesServer: server.throwaway,
    dispose: server.shutdown,
    stop: server.shutdown,
  };
}
