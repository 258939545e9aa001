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
  /** The student's texts in this backup (scan's may be the very list of the backup before: never changed). */
  texts: readonly TextRecord[];
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
 * history.buildHistory takes with the snapshots. Each backup's users are
 * read once and dropped once its snapshot is made: what is kept per backup
 * is its snapshot and its match, so memory does not grow with the class
 * times the backups.
 */
export async function studentSnapshots(set: BackupSet, name: string, log: (m: string) => void): Promise<{ userId: number; snapshots: Snapshot[] }> {
  const id = await followedId(set, name);
  // Backups with the same rows (most nights of a year) are read once.
  const read = await set.mapRows(async (b) => {
    const users = await b.query.users();
    const match = matchIn(users, name);
    const user = users.find((u) => u.id === id) ?? null;
    const tasks = (await b.query.tasks()).map((t) => ({ id: t.id, storedName: t.storedName, phase: t.phase, sortPosition: t.sortPosition, isEnabled: t.isEnabled, title: t.title }));
    const texts = user ? await b.query.texts(user) : [];
    return { match, user: user ? { id: user.id, username: user.username } : null, tasks, texts };
  });
  const matches: BackupMatch[] = read.map((r, k) => ({ date: set.loaded[k]!.date.value, user: r.match.user }));
  const snapshots = read.map(({ user, tasks, texts }, k): Snapshot => {
    const { path, date } = set.loaded[k]!;
    return { path, date: date.value, dateSource: date.source, user, tasks, texts };
  });
  const note = chooseUser(matches)?.note;
  if (note) log(note);
  const newest = matches.map((m) => m.user?.id).lastIndexOf(id);
  if (read[newest]?.match.by === 'real name') log(`"${name}" is ${matches[newest]!.user!.username} (user id ${id}), found by real name`);
  return { userId: id, snapshots };
}

/** The name's match in one backup's users; a name it does not find is a null user with the reason. */
function matchIn(users: UserRecord[], name: string): { user: UserRecord | null; by: string | null; error: RecoverError | null } {
  try {
    const match = matchUser(users, name);
    return { user: match.user, by: match.by, error: null };
  } catch (e) {
    if (!(e instanceof RecoverError && e.exit === 'noStudent')) throw e;
    return { user: null, by: null, error: e };
  }
}

/**
 * The id to follow (chooseUser): the newest backup's match, asked of it
 * alone, as it nearly always has one; else every backup's, only the matches
 * kept. When no backup finds the name, the newest's answer, said of them all.
 */
async function followedId(set: BackupSet, name: string): Promise<number> {
  const newest = await set.on(set.loaded.at(-1)!, async (b) => matchIn(await b.query.users(), name));
  if (newest.user) return newest.user.id;
  const users = await set.mapRows(async (b) => matchIn(await b.query.users(), name).user);
  const matches = users.map((user, k) => ({ date: set.loaded[k]!.date.value, user }));
  const chosen = chooseUser(matches);
  if (chosen) return chosen.id;
  const n = matches.length;
  const error = newest.error!;
  throw new RecoverError(error.code, n === 1 ? error.message : error.message.replace(/ in this backup/, ` in any of these ${n} backups`), { hint: error.hint, exit: error.exit });
}
