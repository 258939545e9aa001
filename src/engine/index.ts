/**
 * engine: a throwaway PostgreSQL behind one small interface (types.ts).
 * Each engine file provides a start function that returns a running Server;
 * adding an engine is adding one file and one line to STARTERS.
 */
import { startDocker } from './docker.js';
import { startEmbedded } from './embedded.js';
import { engineOn } from './server.js';
import { startSystem } from './system.js';
import type { Scope } from '../scope.js';
import type { Engine, EngineConfig, EngineKind, Server } from './types.js';
import { startUrl } from './url.js';

type Starters = { [K in EngineKind]: (config: Extract<EngineConfig, { kind: K }>, scope: Scope) => Promise<Server> };

const STARTERS: Starters = {
  embedded: startEmbedded,
  system: startSystem,
  url: startUrl,
  docker: startDocker,
};

export const ENGINE_KINDS = Object.keys(STARTERS) as EngineKind[];

/** Start the engine `config` names; it is registered with `scope`, which removes it if the run ends first. */
export async function startEngine(config: EngineConfig, scope: Scope): Promise<Engine> {
  const start = STARTERS[config.kind] as (c: EngineConfig, scope: Scope) => Promise<Server>;
  return engineOn(await start(config, scope), scope, config.log);
}

export type { Engine, EngineConfig, EngineKind, Log } from './types.js';
export { hasServer } from './system.js';
export { handOver, removeClusterDir, tidyLogLine } from './cluster.js';
export { DEFAULT_IMAGE, isStaleContainer, thisOrigin, type Origin } from './docker.js';
export { clearCache, listCache, UNUSED_TEMPLATE_MS } from './cache.js';
