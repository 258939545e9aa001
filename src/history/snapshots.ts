/**
 * From loaded backups to the history model: the student is found by name in
 * each backup and followed by the id that the newest match has (a rename
 * keeps the row); then each backup's tasks and that student's texts.
 */
import { RecoverError } from '../errors.js';
import { matchUser, type UserRecord } from '../query/index.js';
import type { BackupSet, LoadedBackup } from '../session/index.js';
import { buildHistory, chooseUser, type History, type Snapshot } from './model.js';

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

export async function studentHistory(set: BackupSet, name: string, log: (m: string) => void): Promise<{ history: History; snapshots: Snapshot[] }> {
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
  const snapshots = await set.map(async (b, entry) => {
    const k = set.loaded.indexOf(entry);
    const user = matches[k]!.users.find((u) => u.id === chosen.id) ?? null;
    const tasks = (await b.query.tasks()).map((t) => ({ id: t.id, storedName: t.storedName, phase: t.phase, sortPosition: t.sortPosition, isEnabled: t.isEnabled, title: t.title }));
    const texts = user ? await b.query.texts(user) : [];
    return { path: entry.path, date: b.date.value, dateSource: b.date.source, user: user ? { id: user.id, username: user.username } : null, tasks, texts };
  });
  return { history: buildHistory(snapshots, chosen.id), snapshots };
}
