/**
 * What the nightly-backup generators share: the name a night's backup gets, and a PostgreSQL 15
 * cluster holding the fixture race server (fixtures/generated/current) as `buggy_race`, to grow
 * and edit night by night.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PG15, startPg15 } from './pg15.js';

/** `buggy_race_bk_YYYYMMDD.sql.gz` of the night `k` days after `first` (a UTC time in ms). */
export function nightFileName(first: number, k: number): string {
  const d = new Date(first + k * 86_400_000);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return `buggy_race_bk_${ymd}.sql.gz`;
}

/** The fixture server in a fresh cluster; `psql(db, sql)` runs SQL there (stopping on an error). Stop it with `pg.stop()`. */
export function startFixtureServer(): { pg: ReturnType<typeof startPg15>; env: NodeJS.ProcessEnv; psql: (db: string, sql: string) => void } {
  const pg = startPg15();
  const env = pg.env;
  const psql = (db: string, sql: string) => {
    execFileSync(join(PG15, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  try {
    psql('postgres', 'CREATE ROLE buggy');
    psql('postgres', 'CREATE ROLE buggy_readonly');
    psql('postgres', 'CREATE DATABASE buggy_race OWNER buggy');
    execFileSync(join(PG15, 'psql'), ['-X', '-q', '-d', 'buggy_race', '-f', join(import.meta.dirname, '..', 'fixtures', 'generated', 'current', 'plain.sql')], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  } catch (e) {
    pg.stop();
    throw e;
  }
  return { pg, env, psql };
}
