/**
 * A student across many loaded backups, as the history needs it: the student
 * is found by name in each backup and followed by the id that the newest
 * match has (a rename keeps the row); then each backup's tasks and that
 * student's texts. The queries run here; history builds its model from
 * what flows out (Snapshot), without touching a database.
 */
import { RecoverError } from '../errors.js';
import { matchUser, type TextRecord, type UserRecord } from '../query/index.js';
import type { LoadedBackup } from './config.js';
import type { BackupSet } from './many.js';

/** A task as one backup stores it. */
export interface SnapshotTask {
  id: number;
  /** `<phase>-<name>` exactly as stored. */
  storedName: string;
  phase: number;
  sortPosition: number;
  isEnabled: boolean;
  title: string | null;
}

/** What one backup holds about the student. */
export interface Snapshot {
  path: string;
  /** backupDate(): YYYY-MM-DD, or YYYY-MM-DD HH:MM from an archive header. */
  date: string;
  dateSource: string;
  /** The student in this backup (found by id), or null when the account did not exist yet. */
  user: { id: number; username: string } | null;
  tasks: SnapshotTask[];
  /** The student's texts in this backup. */
  texts: TextRecord[];
}

/** How one backup's match for the name given compares: used to follow the student by id. */
export interface BackupMatch {
  date: string;
  /** The user this backup's lookup found (findUser), or null. */
  user: UserRecord | null;
}

/**
 * The student to follow: the one the name finds in the newest backup where
 * it finds anyone. Returns the id and, when other backups found another
 * account under that name, a note saying so.
 */
export function chooseUser(matches: readonly BackupMatch[]): { id: number; note: string | null } | null {
  const found = matches.filter((m) => m.user !== null);
  const newest = found.at(-1);
  if (!newest) return null;
  const others = found.filter((m) => m.user!.id !== newest.user!.id);
  const note = others.length
    ? `the name also matches another account (${others.map((m) => `${m.user!.username}, id ${m.user!.id}, on ${m.date}`).join('; ')}); following id ${newest.user!.id} (${newest.user!.username} on ${newest.date})`
    : null;
  return { id: newest.user!.id, note };
}

/**
 * Whose texts a history of `name` needs, asked of the newest backup (for
 * withBackups' textsOf): the student followed is the newest match, so when
 * the newest backup has one, that id's texts are all that is read from any
 * backup. Null (everyone's) when it has none, or cannot tell.
 */
export function textsFor(name: string): (newest: LoadedBackup) => Promise<number[] | null> {
  return async (b) => {
    try {
      return [matchUser(await b.query.users(), name).user.id];
    } catch {
      return null; // studentHistory reports it, with every backup loaded whole
    }
  };
}

/**
 * What each backup holds about the student named: found by name in each
 * backup, followed by the id the newest match has. `userId`: that id, which
 * history.buildHistory takes with the snapshots.
 */
export async function studentSnapshots(set: BackupSet, name: string, log: (m: string) => void): Promise<{ userId: number; snapshots: Snapshot[] }> {
  const matches = await set.map(async (b) => {
    const users = await b.query.users();
    try {
      const match = matchUser(users, name);
      return { date: b.date.value, users, user: match.user as UserRecord | null, by: match.by, error: null };
    } catch (e) {
      if (!(e instanceof RecoverError && e.exit === 'noStudent')) throw e;
      return { date: b.date.value, users, user: null, by: null, error: e };
    }
  });
  const chosen = chooseUser(matches);
  if (!chosen) {
    const newest = matches.at(-1)!.error!;
    const n = matches.length;
    // The newest backup's answer (with its closest names), said of them all.
    throw new RecoverError(newest.code, n === 1 ? newest.message : newest.message.replace(/ in this backup/, ` in any of these ${n} backups`), {
      hint: newest.hint,
      exit: newest.exit,
    });
  }
  if (chosen.note) log(chosen.note);
  const byName = matches.filter((m) => m.user?.id === chosen.id).at(-1);
  if (byName?.by === 'real name') log(`"${name}" is ${byName.user!.username} (user id ${chosen.id}), found by real name`);
  const snapshots = await set.map(async (b, entry): Promise<Snapshot> => {
    const k = set.loaded.indexOf(entry);
    const user = matches[k]!.users.find((u) => u.id === chosen.id) ?? null;
    const tasks = (await b.query.tasks()).map((t) => ({ id: t.id, storedName: t.storedName, phase: t.phase, sortPosition: t.sortPosition, isEnabled: t.isEnabled, title: t.title }));
    const texts = user ? await b.query.texts(user) : [];
    return { path: entry.path, date: b.date.value, dateSource: b.date.source, user: user ? { id: user.id, username: user.username } : null, tasks, texts };
  });
  return { userId: chosen.id, snapshots };
}
