/**
 * Which database of a backup is the race server's. A backup of one database
 * has one part; a pg_dumpall file (what `docker exec db pg_dumpall` backs up)
 * one per `\connect`, each loaded into a schema of its own (load/), never
 * mixed (hostile-input.md): another application's `users` must neither be
 * counted nor lend a student's id to the race server's texts. The race
 * server's database is the one holding users, tasks and its texts table
 * (race-server.md); `--database NAME` chooses when several do.
 */
import { distance } from 'fastest-levenshtein';
import type { BackupFile } from '../detect/index.js';
import { RecoverError } from '../errors.js';
import type { DatabaseLoad, LoadResult } from '../load/index.js';
import type { SessionConfig } from './config.js';

/** What the part before the first `\connect` is called, in the rare file where it holds tables. */
const BEFORE_CONNECT = '(before the first \\connect)';

/** A database part with the race server's three tables. */
function isRace(r: LoadResult): boolean {
  const t = r.tables;
  return t.users.present && t.tasks.present && (t.tasktexts.present || t.notes.present);
}

function holdsTables(r: LoadResult): boolean {
  return Object.values(r.tables).some((t) => t.present);
}

/**
 * The part to query. A backup without `\connect` is its one part, whatever
 * --database says (it names a database of a file that holds several). Notes
 * which database was used when the file holds several.
 */
export function chooseDatabase(backup: BackupFile, parts: readonly DatabaseLoad[], clusterDump: boolean, config: Pick<SessionConfig, 'database' | 'log'>): DatabaseLoad {
  const head = parts[0]!;
  const named = parts.slice(1);
  if (!named.length) return head;
  const names = named.map((p) => p.name!);
  // In pg_dumpall's and pg_dump --create's files the part before the first \connect has no tables.
  const candidates = holdsTables(head.result) ? [head, ...named] : named;
  const label = (p: DatabaseLoad) => shown(p.name ?? BEFORE_CONNECT);
  const race = candidates.filter((p) => isRace(p.result));
  const what = clusterDump ? 'pg_dumpall file' : `backup of ${names.length} databases`;
  let chosen: DatabaseLoad | undefined;
  if (config.database !== undefined) {
    chosen = named.find((p) => p.name === config.database);
    if (!chosen) throw notFound(backup, config.database, names, race.map(label));
  } else if (race.length === 1) {
    chosen = race[0]!;
  } else if (race.length > 1) {
    const choices = race.filter((p) => p.name !== null).map((p) => p.name!);
    throw new RecoverError('DATABASE_AMBIGUOUS', `${backup.path} is a ${what} with ${race.length} race server databases: ${race.map(label).join(', ')}`, {
      hint: `choose one with --database${choices.length ? `, e.g. --database ${shellWord(choices[0]!)}` : ''}`,
    });
  } else if (candidates.length === 1) {
    // One database (pg_dump --create): the usual "no such table" errors say what it lacks.
    chosen = candidates[0]!;
  } else {
    throw new RecoverError('BACKUP_NO_RACE_TABLES', `${backup.path} is a ${what}, and none of its databases (${names.map(shown).join(', ')}) holds the race server's tables (users, tasks and tasktexts)`, {
      hint: 'is this a backup of the race server\'s cluster? `recover-texts inspect` shows what it holds',
    });
  }
  chosen.result.database = { name: chosen.name ?? BEFORE_CONNECT, all: names };
  if (names.length > 1) {
    const others = names.filter((n) => n !== chosen.name);
    noteOnce(config.log, `${what}: using database ${label(chosen)} (others: ${others.map(shown).join(', ')})`);
  }
  return chosen;
}

function notFound(backup: BackupFile, wanted: string, names: string[], race: string[]): RecoverError {
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const near = names
    .map((n) => ({ n, d: distance(wanted.toLowerCase(), n.toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((a, b) => a.d - b.d)
    .map(({ n }) => shown(n));
  const list = names.length === 1 ? `only database ${shown(names[0]!)}` : `no database ${shown(wanted)}`;
  return new RecoverError('DATABASE_NOT_FOUND', `--database ${shown(wanted)}: ${backup.path} has ${list}${near.length && names.length > 1 ? `; did you mean ${near.slice(0, 3).join(' or ')}?` : ''}`, {
    hint: `its databases: ${names.map(shown).join(', ')}${race.length ? `; the race server's tables are in ${race.join(', ')}` : ''}`,
  });
}

/** Notes said once per run (history reads many pg_dumpall files with the same databases). */
const said = new WeakMap<SessionConfig['log'], Set<string>>();
function noteOnce(log: SessionConfig['log'], message: string): void {
  const seen = said.get(log) ?? new Set<string>();
  said.set(log, seen);
  if (seen.has(message)) return;
  seen.add(message);
  log(message);
}

/** A database name as printed: as it is when plain, else quoted with its control characters escaped. */
function shown(name: string): string {
  return /^[\w.-]+$/.test(name) ? name : JSON.stringify(name);
}

/** A database name as a shell word, for a command to paste. */
function shellWord(name: string): string {
  return /^[\w.@%+=:,/-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}
