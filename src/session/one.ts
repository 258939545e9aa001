/**
 * One backup, loaded into a throwaway database for as long as a command
 * needs it: detect -> source -> filter -> load -> query, and the guarantee
 * that whatever was started is stopped and removed.
 */
import { detectBackup } from '../detect/index.js';
import { startEngine } from '../engine/index.js';
import { checkpoint } from '../resources.js';
import { openSql } from '../source/index.js';
import type { LoadedBackup, SessionConfig } from './config.js';
import { backupDate } from './date.js';
import { loadInto, queryOn } from './load.js';

/** Load `path` and run `fn` on it; everything started is removed afterwards, whatever happens. */
export async function withBackup<T>(path: string, config: SessionConfig, fn: (b: LoadedBackup) => Promise<T>): Promise<T> {
  config.onPhase?.('reading backup');
  const backup = await detectBackup(path);
  let read = 0;
  // Archives: only the wanted tables' bytes are read, so progress shows bytes only.
  const total = backup.archive ? 0 : backup.size;
  const source = await openSql(backup, { pgRestore: config.pgRestore, onBytes: (n) => config.onProgress?.((read += n), total) });
  config.onPhase?.('starting PostgreSQL');
  const engine = await startEngine(config.engine).catch((e) => {
    source.streams.forEach((s) => s.destroy());
    throw e;
  });
  try {
    let database: string;
    let client: Awaited<ReturnType<typeof engine.connect>>;
    try {
      database = await engine.createDatabase();
      client = await engine.connect(database);
    } catch (e) {
      source.streams.forEach((s) => s.destroy());
      throw e;
    }
    try {
      config.onPhase?.('loading');
      const { load, stats } = await loadInto(client, backup, source, config);
      config.onPhase?.('querying');
      const query = await queryOn(client, load, config.timezone);
      await checkpoint('querying');
      return await fn({ backup, date: backupDate(backup), load, stats, query, engine, database });
    } finally {
      await client.end().catch(() => {});
    }
  } finally {
    await engine.stop();
  }
}
