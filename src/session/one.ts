/**
 * One backup, loaded into a throwaway database for as long as a command
 * needs it: detect -> source -> filter -> load -> query, and the guarantee
 * that whatever was started is stopped and removed.
 */
import type pg from 'pg';
import { detectBackup } from '../detect/index.js';
import { startEngine } from '../engine/index.js';
import { openSql } from '../source/index.js';
import { pathOf, type BackupInput, type LoadedBackup, type SessionConfig } from './config.js';
import { backupDate } from './date.js';
import { loadInto, queryOn } from './load.js';
import { aboutBackup } from './naming.js';

/** Load the backup and run `fn` on it; everything started is removed afterwards, whatever happens. */
export async function withBackup<T>(input: BackupInput, config: SessionConfig, fn: (b: LoadedBackup) => Promise<T>): Promise<T> {
  const path = pathOf(input);
  // Reading the backup fails with errors about it: each names it (naming.ts).
  const named = <T>(step: Promise<T>): Promise<T> =>
    step.catch((e: unknown) => {
      throw aboutBackup(e, path);
    });
  config.onPhase?.('reading backup');
  const backup = typeof input === 'string' ? await named(detectBackup(input)) : input;
  let read = 0;
  // Archives: only the wanted tables' bytes are read, so progress shows bytes only.
  const total = backup.archive ? 0 : backup.size;
  // The engine starts while the backup is opened and read: the filter passes
  // over the other tables' data (first in a dump) before it needs a database.
  config.onPhase?.('starting PostgreSQL');
  const starting = startEngine(config.engine, config.scope);
  starting.catch(() => {}); // its failure surfaces through the load, or is awaited below
  let client: pg.Client | undefined;
  try {
    const source = await named(openSql(backup, { pgRestore: config.pgRestore === undefined ? undefined : { path: config.pgRestore, scope: config.scope }, onBytes: (n) => config.onProgress?.((read += n), total) }));
    const connected = starting.then(async (engine) => {
      const database = await engine.database();
      client = await engine.connect(database);
      return { engine, database, client };
    });
    const target = connected.then((c) => ({ client: c.client, scratch: c.engine.scratch, schema: c.engine.schema('public') }));
    const { load, stats, schema } = await named(loadInto(target, backup, source, config));
    const { engine, database } = await connected;
    config.onPhase?.('querying');
    const query = await queryOn(client!, load, config.timezone);
    await config.scope.checkpoint('querying');
    return await fn({ backup, date: backupDate(backup), load, stats, query, engine, database, schema });
  } finally {
    await client?.end().catch(() => {});
    // Started or failing, it is waited for: nothing is left running.
    await (await starting.catch(() => undefined))?.stop();
  }
}
