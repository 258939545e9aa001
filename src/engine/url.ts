/**
 * The `url` engine: a server the admin names. Nothing is started; scratch
 * databases are created there and dropped again (server.ts). No other
 * database on that server is read or touched.
 */
import type { EngineConfig, Server } from './types.js';

export async function startUrl(config: Extract<EngineConfig, { kind: 'url' }>): Promise<Server> {
  const url = new URL(config.databaseUrl); // checked by the CLI's option resolution
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  return {
    description: `--database-url server on ${host}`,
    admin: { connectionString: config.databaseUrl },
    throwaway: false,
    shutdown: async () => {},
  };
}
