/**
 * Every student across many loaded backups, for `scan`, kept small enough for
 * a year of nightly backups (365 x 300 students x 30 tasks).
 *
 * The backups are visited one at a time, oldest first (the next one is read
 * while this one's rows are compared): its users and tasks are asked for,
 * and its texts. Streamed, a backup's texts wait in memory (held-texts.ts),
 * and when all its other rows are those of the backup before (it shares that
 * one's schema), only the texts of the (user, task) keys whose rows changed
 * since are loaded and asked for. Nothing is kept per backup but its date
 * and its task list (shared with the backup before when unchanged). Per
 * user, and per (user, task), only the changes are kept: the backup where the
 * value became different, and the new value (null: gone). Most texts never
 * change from one night to the next, so a year holds each of them once or a
 * few times, and each distinct text string once (a change's strings are
 * interned by content: a text that comes back, or is kept through a rename,
 * shares the copy already held; unchanged texts are dropped as read).
 *
 * `snapshots(userId)` rebuilds one student's Snapshot[] (what
 * studentSnapshots gives `history`) from those changes, when the cohort
 * builds that student's History; the caller drops it before the next.
 */
import { realName, type TaskRecord, type TextRecord, type UserRecord } from '../query/index.js';
import type { BackupStream } from './many.js';
import type { Snapshot, SnapshotTask } from './student.js';
import { changedKeys, rowsOfKeys, type HeldTexts } from './held-texts.js';

/** A value from the backup `at` on (until the next change); null: not there. */
interface Change<T> {
  at: number;
  value: T | null;
}

/** A user as the scan shows them. */
interface CohortUser {
  id: number;
  username: string;
  /** First and last name, as the users table has them; null when it has neither. */
  name: string | null;
}

interface CohortBackup {
  path: string;
  date: string;
  dateSource: string;
}

/** What the loaded backups hold about everyone, as changes (see the module comment). */
export interface CohortTimelines {
  /** The backups, oldest first. */
  backups: readonly CohortBackup[];
  /** The users who had texts in any backup, by id. */
  userIds(): number[];
  /**
   * Whether the user's account went, or `loses` says so of a task's texts from one backup to the
   * next (the texts before, never none, and after: null when none; the caller's rule, history's):
   * only then can they have lost anything.
   */
  mayHaveLost(id: number, loses: (before: readonly TextRecord[], after: readonly TextRecord[] | null) => boolean): boolean;
  /** The user as the newest backup that has them holds them. */
  user(id: number): CohortUser;
  /** One student's snapshots, as studentSnapshots would give them. */
  snapshots(userId: number): Snapshot[];
  /**
   * What of the user's a backup held in bytes that were not UTF-8 (a SQL_ASCII backup's, loaded as
   * U+FFFD: BackupQuery.notUtf8), as phrases ("the text for 1-REPORT", "the username"): their
   * texts in any backup, and their username and their tasks' names in the newest, which an
   * upload takes. None: [].
   */
  notUtf8(userId: number): string[];
}

/** Record `value` at backup `at` when it differs from the last change (`same` compares); whether it did. */
function track<T>(list: Change<T>[], at: number, value: T | null, same: (a: T, b: T) => boolean): boolean {
  const last = list.at(-1);
  const prev = last ? last.value : null;
  if (prev === null ? value === null : value !== null && same(prev, value)) return false;
  list.push({ at, value });
  return true;
}

/** The value on backup `k` (the newest change at or before it), for k asked in increasing order: the list is walked once. */
function atEach<T>(list: readonly Change<T>[]): (k: number) => T | null {
  let next = 0;
  let v: T | null = null;
  return (k) => {
    for (; next < list.length && list[next]!.at <= k; next++) v = list[next]!.value;
    return v;
  };
}

const sameUser = (a: CohortUser, b: CohortUser) => a.username === b.username && a.name === b.name;
const sameTexts = (a: readonly TextRecord[], b: readonly TextRecord[]) =>
  a.length === b.length && a.every((x, k) => (Object.keys(x) as (keyof TextRecord)[]).every((f) => x[f] === b[k]![f]));

/** Visit every loaded backup once, oldest first, keeping only what changed (see the module comment). */
export async function cohortTimelines(set: Pick<BackupStream, 'each'>): Promise<CohortTimelines> {
  const backups: CohortBackup[] = [];
  const tasksAt: SnapshotTask[][] = [];
  const users = new Map<number, Change<CohortUser>[]>();
  const texts = new Map<number, Map<number, Change<TextRecord[]>[]>>();
  const undecoded = new Map<number, Set<string>>();
  /** The newest backup's users and tasks whose names were not UTF-8, by id. */
  let undecodedNames: { users: Set<number>; tasks: Set<number> } = { users: new Set(), tasks: new Set() };
  const interned = new Map<string, string>();
  const intern = (s: string) => {
    const known = interned.get(s);
    if (known !== undefined) return known;
    interned.set(s, s);
    return s;
  };

  /** The backup read before: what this one's texts are compared with. */
  let before: { schema: string; held?: HeldTexts; userRows: UserRecord[]; tasks: TaskRecord[] } | undefined;
  await set.each(
    async (b) => {
      // In the schema of the backup before, all its rows but its texts are that one's (streamBackups): its users
      // and tasks too, and its texts' encoding, so its texts can be compared with that one's by their bytes.
      const shared = before?.schema === b.schema ? before : undefined;
      const userRows = shared?.userRows ?? (await b.query.users());
      const tasks = shared?.tasks ?? (await b.query.tasks());
      const held = b.texts?.held;
      const changed = shared?.held && held ? changedKeys(shared.held, held) : null;
      // Held back from the load (held-texts.ts): only the texts of the keys that changed are loaded (none: nothing is asked).
      if (held && !held.loaded && (!changed || changed.length)) await b.texts!.load(changed ? rowsOfKeys(held, changed) : 'all');
      const rows = changed ? await b.query.textsOfKeys(changed, userRows) : await b.query.allTexts(userRows);
      // Set last: a backup whose texts failed to load is skipped, and the next compared with the one before it.
      const done = before?.held;
      before = { schema: b.schema, held, userRows, tasks };
      // Compared with, and never again: its memory goes to a later backup's texts.
      if (done !== held) done?.discard();
      return { date: b.date, tasks, userRows, rows, keys: changed, notUtf8: b.query.notUtf8(rows), notUtf8Names: b.query.notUtf8Names() };
    },
    ({ date, tasks: taskRows, userRows, rows, keys, notUtf8, notUtf8Names }, entry) => {
      undecodedNames = notUtf8Names;
      for (const t of notUtf8) (undecoded.get(t.userId) ?? undecoded.set(t.userId, new Set()).get(t.userId)!).add(t.task_name);
      const k = backups.length;
      backups.push({ path: entry.path, date: date.value, dateSource: date.source });
      const tasks = taskRows.map((t) => ({ id: t.id, storedName: t.storedName, phase: t.phase, sortPosition: t.sortPosition, isEnabled: t.isEnabled, title: t.title }));
      const before = tasksAt.at(-1);
      tasksAt.push(before && JSON.stringify(before) === JSON.stringify(tasks) ? before : tasks);

      const here = new Map(userRows.map((u) => [u.id, { id: u.id, username: u.username, name: realName(u) || null }]));
      const byKey = new Map<number, Map<number, TextRecord[]>>();
      for (const t of rows) {
        const mine = byKey.get(t.userId) ?? byKey.set(t.userId, new Map()).get(t.userId)!;
        (mine.get(t.taskId) ?? mine.set(t.taskId, []).get(t.taskId)!).push(t);
      }
      // Everyone with texts here, and everyone seen with texts before (their account or texts may be gone).
      for (const [id, mine] of byKey) {
        const tasksOf = texts.get(id) ?? texts.set(id, new Map()).get(id)!;
        for (const taskId of mine.keys()) if (!tasksOf.has(taskId)) tasksOf.set(taskId, []);
      }
      for (const id of texts.keys()) track(users.get(id) ?? users.set(id, []).get(id)!, k, here.get(id) ?? null, sameUser);
      /** The (user, task)'s texts here, kept when they changed. */
      const trackTexts = (id: number, taskId: number) => {
        const changes = texts.get(id)?.get(taskId);
        if (!changes) return; // no text of it here, and none seen before
        const list = byKey.get(id)?.get(taskId)?.sort((x, y) => x.textId - y.textId) ?? null;
        // Only a change is kept, and only its strings are interned: the unchanged rest is dropped as read.
        if (track(changes, k, list, sameTexts)) for (const t of list ?? []) t.text = intern(t.text);
      };
      // Only the changes were read (changedKeys): every other (user, task) is as on the backup before.
      if (keys) for (const key of keys) trackTexts(key.user, key.task);
      else for (const [id, tasksOf] of texts) for (const taskId of tasksOf.keys()) trackTexts(id, taskId);
    },
  );

  return {
    backups,
    userIds: () => [...texts.keys()].sort((a, b) => a - b),
    mayHaveLost: (id, loses) => {
      const went = <T>(list: readonly Change<T>[], lost: (was: T, now: T | null) => boolean) => list.some((c, k) => k > 0 && list[k - 1]!.value !== null && lost(list[k - 1]!.value!, c.value));
      return went(users.get(id) ?? [], (_, now) => now === null) || [...(texts.get(id)?.values() ?? [])].some((list) => went(list, loses));
    },
    notUtf8: (id) => {
      const newest = tasksAt.at(-1) ?? [];
      return [
        ...(undecodedNames.users.has(id) ? ['the username'] : []),
        ...[...(undecoded.get(id) ?? [])].sort().map((task) => `the text for ${task}`),
        // A task of theirs renamed in the newest backup: the upload names it so.
        ...[...(texts.get(id)?.keys() ?? [])].filter((t) => undecodedNames.tasks.has(t)).map((t) => `the name of task ${newest.find((x) => x.id === t)?.storedName ?? t}`),
      ];
    },
    user: (id) => {
      const changes = users.get(id) ?? [];
      const newest = changes.filter((c) => c.value !== null).at(-1)?.value;
      return newest ?? { id, username: String(id), name: null };
    },
    snapshots: (userId) => {
      // Each change list walked once, backup by backup, and a backup where none of the student's texts changed
      // given the very array of the one before (a year's scan may build hundreds of students' snapshots).
      const user = atEach(users.get(userId) ?? []);
      const tasks = [...(texts.get(userId)?.values() ?? [])].map(atEach);
      let values: (TextRecord[] | null)[] = [];
      let mine: TextRecord[] = [];
      return backups.map((b, k) => {
        const u = user(k);
        const now = tasks.map((at) => at(k));
        if (now.some((v, t) => v !== values[t])) mine = now.flatMap((v) => v ?? []);
        values = now;
        return { ...b, user: u ? { id: u.id, username: u.username } : null, tasks: tasksAt[k]!, texts: u ? mine : [] };
      });
    },
  };
}
