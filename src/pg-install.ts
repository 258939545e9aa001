/**
 * Where PostgreSQL's programs live on the machines admins use: PATH first,
 * then each platform's versioned install places, newest version first. The
 * `system` engine looks here for initdb and postgres, the archive source for
 * pg_restore (--pg-restore); one list, so they cannot drift apart.
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** [parent folder, which of its entries are installs, the bin folder inside one]. */
const VERSIONED_PLACES: [string, RegExp, string][] = [
  ['/usr/lib/postgresql', /^\d+$/, 'bin'], // Debian, Ubuntu (postgresql-NN, postgresql-client-NN)
  ['/usr', /^pgsql-\d+$/, 'bin'], // RHEL, Fedora (PGDG): /usr/pgsql-16/bin
  ['/opt/homebrew/opt', /^(postgresql|libpq)/, 'bin'], // Homebrew, Apple silicon
  ['/usr/local/opt', /^(postgresql|libpq)/, 'bin'], // Homebrew, Intel
  ['/Applications/Postgres.app/Contents/Versions', /./, 'bin'], // Postgres.app
  ['/Library/PostgreSQL', /^\d+/, 'bin'], // EDB installer, macOS
  ['C:\\Program Files\\PostgreSQL', /^\d+/, 'bin'], // EDB installer, Windows
];

/** The folders that may hold PostgreSQL programs, most likely first, each once. */
export function postgresBinDirs(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const [base, pick, bin] of VERSIONED_PLACES) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue; // not on this machine
    }
    names
      .filter((n) => pick.test(n))
      .sort((a, b) => versionOf(b) - versionOf(a))
      .forEach((v) => dirs.push(join(base, v, bin)));
  }
  return [...new Set(dirs)];
}

/** `program` in each of postgresBinDirs() where it exists. */
export function findProgram(program: string): string[] {
  const exe = process.platform === 'win32' ? `${program}.exe` : program;
  return postgresBinDirs()
    .map((dir) => join(dir, exe))
    .filter((p) => existsSync(p));
}

function versionOf(name: string): number {
  return Number(name.match(/\d+(\.\d+)?/)?.[0] ?? 0);
}
