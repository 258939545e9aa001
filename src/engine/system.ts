/**
 * The `system` engine: initdb and postgres already on this machine, from
 * --pg-bin DIR, else PATH, else the usual install places (newest first).
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { Binaries } from './cluster.js';

export function systemBinaries(pgBin?: string): Binaries {
  if (pgBin) {
    if (!hasServer(pgBin)) {
      throw new RecoverError('ENGINE_PG_BIN_INVALID', 'usage', `--pg-bin ${pgBin} does not hold initdb and postgres`, {
        hint: 'point --pg-bin at PostgreSQL\'s bin directory, e.g. /usr/lib/postgresql/16/bin',
      });
    }
    return { dir: pgBin, source: `PostgreSQL in ${pgBin}` };
  }
  for (const dir of candidateDirs()) {
    if (hasServer(dir)) return { dir, source: `PostgreSQL in ${dir}` };
  }
  throw new RecoverError('ENGINE_SYSTEM_MISSING', 'engine', 'no PostgreSQL server binaries (initdb, postgres) found on PATH or in the usual places', {
    hint: 'install the PostgreSQL server package, pass --pg-bin DIR, or use the default embedded engine',
  });
}

function hasServer(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
}

function candidateDirs(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const base of ['/usr/lib/postgresql', '/usr/pgsql', '/opt/homebrew/opt', '/usr/local/opt']) {
    let versions: string[];
    try {
      versions = readdirSync(base);
    } catch {
      continue;
    }
    versions
      .sort((a, b) => Number(b.replace(/\D+/g, '')) - Number(a.replace(/\D+/g, '')))
      .forEach((v) => dirs.push(join(base, v, 'bin')));
  }
  dirs.push('/Applications/Postgres.app/Contents/Versions/latest/bin');
  return dirs;
}
