/**
 * A bare PostgreSQL 15 cluster for the benchmarks, made the way a DBA would
 * by hand (initdb, pg_ctl start, pg_ctl stop), independent of the tool's own
 * engines so that the baselines never run the code being measured.
 *
 * Root cannot run PostgreSQL; as root the cluster belongs to `postgres`.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PG15 = process.env.BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Run a PostgreSQL binary as the cluster's owner. */
function asOwner(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const root = process.getuid?.() === 0;
  const cmd = root ? 'runuser' : join(PG15, bin);
  const argv = root ? ['-u', 'postgres', '--', join(PG15, bin), ...args] : args;
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, LC_ALL: 'C', ...env } });
}

function ownerIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root needs a postgres user for the benchmark clusters');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface Pg15 {
  dir: string;
  /** Environment for psql, pg_restore, createdb, ... on this cluster. */
  env: NodeJS.ProcessEnv;
  stop(): void;
}

/** initdb + start. Settings as the tool's own throwaway cluster uses them: speed over durability. */
export function startPg15(root: string = tmpdir()): Pg15 {
  const dir = mkdtempSync(join(root, 'bench-pg15-'));
  const ids = ownerIds();
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  asOwner('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
  const opts = `-k ${dir} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB -c max_wal_size=1GB -c autovacuum=off`;
  asOwner('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start']);
  const env = { ...process.env, PGHOST: dir, PGPORT: '5432', PGUSER: 'postgres', PGDATABASE: 'postgres' };
  let stopped = false;
  return {
    dir,
    env,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A bare initdb + start + stop of a PostgreSQL 15 cluster in `root`, as one timed unit (seconds). */
export function bareClusterCycle(root?: string): number {
  const t0 = performance.now();
  startPg15(root).stop();
  return (performance.now() - t0) / 1000;
}
