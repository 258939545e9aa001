/** BackupQuery: the race server's own queries over a loaded backup's scratch tables. */
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import type { LoadResult } from '../load/index.js';
import { matchUser, type UserMatch, type UserRecord } from './users.js';

export type { UserRecord } from './users.js';

/**
 * A task's two names. The server's download ("Load texts as JSON") writes
 * `<phase>-<NAME>` upper-cased (Python's str.upper); the tasks table stores
 * `<phase>-<name>` as the admin typed it, and the upload matches on that.
 */
type DownloadName = string;
/** `<phase>-<name>` exactly as the tasks table stores it: what the upload matches on. */
type StoredName = string;

/** One element of the server's upload JSON, keys in the server's order. */
export interface ServerText {
  /** A DownloadName in an export; a StoredName in an upload that merge or export-all writes. */
  task_name: DownloadName | StoredName;
  username: string;
  created_at: string | null;
  modified_at: string | null;
  is_enabled: boolean;
  text: string;
}

/** A text with what we know about where it came from. */
export interface TextRecord extends ServerText {
  textId: number;
  taskId: number;
  phase: number;
  sortPosition: number;
  /** `<phase>-<name>` exactly as the server stores it (the upload matches on this). */
  storedTaskName: StoredName;
  taskTitle: string | null;
  userId: number;
}

export interface TaskRecord {
  id: number;
  downloadName: DownloadName;
  storedName: StoredName;
  phase: number;
  sortPosition: number;
  isEnabled: boolean;
  title: string | null;
}


/** What to do about texts of a SQL_ASCII backup that are not UTF-8 (BackupQuery.notUtf8). */
export const NOT_UTF8_HINT =
  'name the encoding the server stored them in and check the result before uploading: --backup-encoding LATIN1 (Western European), WIN1252 (Windows Western), LATIN9, LATIN2, WIN1251, ...';

/** `YYYY-MM-DD HH:MM`: the server's strftime("%Y-%m-%d %H:%M"); to_char truncates, as strftime does. */
const MINUTE = `'YYYY-MM-DD HH24:MI'`;
/**
 * A timestamp stored as text. Servers since v2.0.2 use timestamptz, whose
 * text form always ends in a UTC offset; older ones use naive timestamps
 * holding UTC wall-clock time, which never have one. So the value's own form
 * says which kind it is, even in a data-only dump with no column types.
 */
const HAS_OFFSET = `'[+-][0-9]{2}(:[0-9]{2}){0,2}$'`;
const asMinute = (v: string) =>
  `CASE WHEN ${v} IS NULL THEN NULL WHEN ${v} ~ ${HAS_OFFSET} THEN to_char((${v})::timestamptz, ${MINUTE}) ELSE to_char((${v})::timestamp, ${MINUTE}) END`;
/** The same value as a wall-clock timestamp in the session zone, for max(). */
const asWallClock = (v: string) =>
  `CASE WHEN ${v} IS NULL THEN NULL WHEN ${v} ~ ${HAS_OFFSET} THEN (${v})::timestamptz::timestamp ELSE (${v})::timestamp END`;

/** Where a backup keeps its texts: tasktexts, or before March 2023 notes. */
function textsTableOf(load: LoadResult): 'tasktexts' | 'notes' {
  return load.tables.tasktexts.present || !load.tables.notes.present ? 'tasktexts' : 'notes';
}

/** Texts that name a user or a task the backup did not load (their ids are set, no such row). */
export interface DanglingTexts {
  texts: number;
  noUser: number;
  noTask: number;
}

/**
 * The race server's texts always belong to a user and a task (foreign keys, race-server.md):
 * in a backup read whole there are none without. Any means a table's rows went missing while
 * reading (a COPY swallowed by the one before it), and an export would silently lack them.
 * Runs on the loading connection, in the backup's own schema.
 */
export async function danglingTexts(client: pg.Client, load: LoadResult): Promise<DanglingTexts> {
  const texts = textsTableOf(load);
  if (!load.tables[texts].columns.has('user_id') || !load.tables[texts].columns.has('task_id')) return { texts: 0, noUser: 0, noTask: 0 };
  // Joined to each table's distinct ids (hash joins, one pass): a NOT EXISTS inside count's FILTER
  // is run again for every text, scanning users each time (0.1 s for 7,000 texts).
  const { rows } = await client.query(
    `SELECT count(*)::int AS texts,
            count(*) FILTER (WHERE x.user_id IS NOT NULL AND u.id IS NULL)::int AS no_user,
            count(*) FILTER (WHERE x.task_id IS NOT NULL AND t.id IS NULL)::int AS no_task
       FROM ${texts} x
       LEFT JOIN (SELECT DISTINCT id FROM users) u ON u.id = x.user_id
       LEFT JOIN (SELECT DISTINCT id FROM tasks) t ON t.id = x.task_id`,
  );
  const r = rows[0] as { texts: number; no_user: number; no_task: number };
  return { texts: r.texts, noUser: r.no_user, noTask: r.no_task };
}

export class BackupQuery {
  constructor(
    private readonly client: pg.Client,
    private readonly load: LoadResult,
  ) {}

  /** Set the session zone; an unknown zone is the user's mistake, said plainly. */
  async setTimezone(zone: string): Promise<void> {
    try {
      await this.client.query(`SELECT set_config('TimeZone', $1, false)`, [zone]);
    } catch {
      throw new RecoverError('USAGE_BAD_TIMEZONE', `unknown time zone ${JSON.stringify(zone)}`, {
        hint: 'use an IANA zone name such as UTC or Europe/London',
      });
    }
  }

  get textsTable(): 'tasktexts' | 'notes' {
    return textsTableOf(this.load);
  }

  /** A column of a scratch table, or a fallback when the backup's schema lacks it. */
  private col(table: keyof LoadResult['tables'], alias: string, column: string, fallback = 'NULL'): string {
    return this.load.tables[table].columns.has(column) ? `${alias}.${column}` : fallback;
  }

  async users(): Promise<UserRecord[]> {
    const c = (col: string) => this.col('users', 'u', col);
    const { rows } = await this.client.query(
      `SELECT u.id::bigint AS id, u.username, ${c('ext_username')} AS ext, ${c('first_name')} AS first, ${c('last_name')} AS last,
              (${c('is_student')})::boolean AS is_student, (${c('is_active')})::boolean AS is_active
         FROM users u WHERE u.username IS NOT NULL ORDER BY u.username COLLATE "C", u.id::bigint`,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      username: r.username,
      extUsername: r.ext,
      firstName: r.first,
      lastName: r.last,
      isStudent: r.is_student,
      isActive: r.is_active,
    }));
  }

  /** Find a user by name (see matchUser). */
  async findUser(name: string): Promise<UserRecord> {
    return matchUser(await this.users(), name).user;
  }

  /** Find a user by name, saying how (see matchUser). */
  async findUserMatch(name: string): Promise<UserMatch> {
    return matchUser(await this.users(), name);
  }

  /** One user's texts in the server's order, with our deterministic tie-break. */
  async texts(user: UserRecord): Promise<TextRecord[]> {
    const records = await this.textRows('WHERE x.user_id = $1', [String(user.id)], () => user);
    this.refuseNotUtf8(user, records);
    return records.sort(serverOrder);
  }

  /**
   * Every user's texts in one query, for `scan` (which compares lengths and
   * prints none of them, so a SQL_ASCII backup's undecodable bytes are not
   * refused here: `history` or `export` of that student still refuses them).
   * Texts whose user the backup lacks are left out, as no student owns them.
   */
  async allTexts(users: readonly UserRecord[]): Promise<TextRecord[]> {
    const byId = new Map(users.map((u) => [String(u.id), u]));
    return (await this.textRows('', [], (id) => byId.get(id))).sort(serverOrder);
  }

  /**
   * For `scan`, what allTexts gives for the (user, task) keys given only, by their ids: the keys
   * whose texts changed since the backup before.
   */
  async textsOfKeys(keys: readonly { user: number; task: number }[], users: readonly UserRecord[]): Promise<TextRecord[]> {
    if (!keys.length) return [];
    const byId = new Map(users.map((u) => [String(u.id), u]));
    const rows = await this.textRows(
      'WHERE (x.user_id, x.task_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [keys.map((k) => String(k.user)), keys.map((k) => String(k.task))],
      (id) => byId.get(id),
    );
    return rows.sort(serverOrder);
  }

  /** The texts selected by `where`, each with its task, for the user `userOf` finds by id (none: left out). */
  private async textRows(where: string, params: (string | string[])[], userOf: (id: string) => UserRecord | undefined): Promise<TextRecord[]> {
    const x = (col: string) => this.col(this.textsTable, 'x', col);
    const t = (col: string, fallback?: string) => this.col('tasks', 't', col, fallback);
    const { rows } = await this.client.query(
      `SELECT x.id::bigint AS text_id, x.user_id::bigint AS user_id, x.text, ${asMinute(x('created_at'))} AS created, ${asMinute(x('modified_at'))} AS modified,
              t.id::bigint AS task_id, (${t('phase', "'0'")})::int AS phase, t.name, ${t('title')} AS title,
              coalesce((${t('is_enabled', "'true'")})::boolean, true) AS is_enabled, coalesce((${t('sort_position', "'0'")})::int, 0) AS sort_position
         FROM ${this.textsTable} x JOIN tasks t ON t.id = x.task_id
        ${where}`,
      params,
    );
    const records: TextRecord[] = [];
    for (const r of rows) {
      const user = userOf(String(r.user_id));
      if (!user) continue;
      records.push({
        // The server upper-cases with Python's str.upper(); JS's toUpperCase is the same Unicode mapping.
        task_name: `${r.phase}-${String(r.name).toUpperCase()}`,
        username: user.username,
        created_at: r.created,
        modified_at: r.modified,
        is_enabled: r.is_enabled,
        text: r.text ?? '',
        textId: Number(r.text_id),
        taskId: Number(r.task_id),
        phase: r.phase,
        sortPosition: r.sort_position,
        storedTaskName: `${r.phase}-${r.name}`,
        taskTitle: r.title,
        userId: user.id,
      });
    }
    return records;
  }

  /**
   * The records whose text, task name or title, or username held bytes that were not UTF-8: a
   * SQL_ASCII backup's such bytes were loaded as U+FFFD (see load/encoding.ts), so those records
   * are not what the server holds.
   */
  notUtf8(records: readonly TextRecord[]): TextRecord[] {
    const bad = this.load.notUtf8;
    if (!bad.length) return [];
    const ids = (table: string, columns?: string[]) => new Set(bad.filter((f) => f.table === table && (!columns || columns.includes(f.column))).map((f) => f.id));
    const texts = ids(this.textsTable);
    const tasks = ids('tasks', ['name', 'title']);
    const usernames = ids('users', ['username']);
    return records.filter((r) => usernames.has(String(r.userId)) || texts.has(String(r.textId)) || tasks.has(String(r.taskId)));
  }

  /** The users whose username, and the tasks whose name or title, held bytes that were not UTF-8 (as notUtf8), by id. */
  notUtf8Names(): { users: Set<number>; tasks: Set<number> } {
    const ids = (table: string, columns: string[]) => new Set(this.load.notUtf8.filter((f) => f.table === table && columns.includes(f.column)).map((f) => Number(f.id)));
    return { users: ids('users', ['username']), tasks: ids('tasks', ['name', 'title']) };
  }

  /** An export holding a record notUtf8 finds would be silently wrong: the student's texts are refused, the hint says how to name their encoding. */
  private refuseNotUtf8(user: UserRecord, records: TextRecord[]): void {
    const hit = this.notUtf8(records);
    if (!hit.length) return;
    const username = this.load.notUtf8.some((f) => f.table === 'users' && f.column === 'username' && f.id === String(user.id));
    const names = [...new Set(hit.sort(serverOrder).map((r) => r.task_name))];
    throw new RecoverError('TEXT_NOT_UTF8', `${user.username}'s text${names.length === 1 ? '' : 's'} for ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not valid UTF-8${this.load.decodedAs ? ` nor ${this.load.decodedAs.encoding}` : ''} in this ${this.load.encoding ?? 'SQL_ASCII'} backup${username ? ' (and so is the username)' : ''}, so the encoding is unknown and an export would be wrong`,
      { hint: NOT_UTF8_HINT },
    );
  }

  /** Every task: for --tasks validation and for merge. */
  async tasks(): Promise<TaskRecord[]> {
    const t = (col: string, fallback?: string) => this.col('tasks', 't', col, fallback);
    const { rows } = await this.client.query(
      `SELECT t.id::bigint AS id, (${t('phase', "'0'")})::int AS phase, t.name, ${t('title')} AS title,
              coalesce((${t('is_enabled', "'true'")})::boolean, true) AS is_enabled, coalesce((${t('sort_position', "'0'")})::int, 0) AS sort_position
         FROM tasks t`,
    );
    return rows
      .map((r) => ({
        id: Number(r.id),
        downloadName: `${r.phase}-${String(r.name).toUpperCase()}`,
        storedName: `${r.phase}-${r.name}`,
        phase: r.phase,
        sortPosition: r.sort_position,
        isEnabled: r.is_enabled,
        title: r.title,
      }))
      .sort((a, b) => taskOrder({ ...a, name: a.downloadName }, { ...b, name: b.downloadName }));
  }

  /** Users who have texts, with how many and the newest timestamp. */
  async authors(): Promise<(UserRecord & { texts: number; newest: string | null })[]> {
    const x = (col: string) => this.col(this.textsTable, 'x', col);
    const { rows } = await this.client.query(
      `SELECT x.user_id, count(*)::int AS n,
              to_char(max(greatest(${asWallClock(x('created_at'))}, ${asWallClock(x('modified_at'))})), ${MINUTE}) AS newest
         FROM ${this.textsTable} x GROUP BY x.user_id`,
    );
    const byId = new Map(rows.map((r) => [String(r.user_id), r]));
    return (await this.users())
      .filter((u) => byId.has(String(u.id)))
      .map((u) => ({ ...u, texts: byId.get(String(u.id))!.n as number, newest: byId.get(String(u.id))!.newest as string | null }));
  }

  async summary(): Promise<BackupSummary> {
    const x = (col: string) => this.col(this.textsTable, 'x', col);
    const u = (col: string) => this.col('users', 'u', col);
    const one = async (sql: string) => (await this.client.query(sql)).rows[0];
    const counts = await one(
      `SELECT (SELECT count(*) FROM users)::int AS users,
              (SELECT count(*) FROM users u WHERE coalesce((${u('is_student')})::boolean, false))::int AS students,
              (SELECT count(*) FROM tasks)::int AS tasks,
              (SELECT count(*) FROM ${this.textsTable})::int AS texts,
              (SELECT count(DISTINCT user_id) FROM ${this.textsTable})::int AS authors,
              (SELECT to_char(max(greatest(${asWallClock(x('created_at'))}, ${asWallClock(x('modified_at'))})), ${MINUTE}) FROM ${this.textsTable} x) AS newest,
              (SELECT string_agg(version_num, ',') FROM alembic_version) AS schema_version,
              (SELECT value FROM settings WHERE id = 'PROJECT_CODE') AS project_code`,
    );
    const created = this.load.tables[this.textsTable].declared?.find((c) => c.name === 'created_at');
    return {
      textsTable: this.textsTable,
      timestampType: created ? (/with time zone|timestamptz/i.test(created.type) ? 'timestamptz' : 'timestamp (UTC wall clock)') : null,
      schemaVersion: counts.schema_version,
      projectCode: counts.project_code,
      users: counts.users,
      students: counts.students,
      tasks: counts.tasks,
      texts: counts.texts,
      authors: counts.authors,
      newestText: counts.newest,
    };
  }
}

export interface BackupSummary {
  textsTable: 'tasktexts' | 'notes';
  timestampType: string | null;
  schemaVersion: string | null;
  projectCode: string | null;
  users: number;
  students: number;
  tasks: number;
  texts: number;
  authors: number;
  newestText: string | null;
}

/** phase, sort_position (the server's order), then task name, then text id (ours, for determinism). */
function serverOrder(a: TextRecord, b: TextRecord): number {
  return inTaskOrder(a.phase, a.sortPosition, a.task_name, a.textId, b.phase, b.sortPosition, b.task_name, b.textId);
}

/**
 * The one order of tasks (and of texts, by their task): the server's own, by
 * phase then sort position (race-server.md), then by name and id so that
 * ties come out the same on every run.
 */
export function taskOrder(
  a: { phase: number; sortPosition: number; name: string; id: number },
  b: { phase: number; sortPosition: number; name: string; id: number },
): number {
  return inTaskOrder(a.phase, a.sortPosition, a.name, a.id, b.phase, b.sortPosition, b.name, b.id);
}

/**
 * taskOrder's rule on its keys as they are: no object is made per comparison (scan sorts
 * every text of every backup, 9,000 a night, and copying each record twice per comparison
 * took most of its time).
 */
function inTaskOrder(phaseA: number, sortA: number, nameA: string, idA: number, phaseB: number, sortB: number, nameB: string, idB: number): number {
  return phaseA - phaseB || sortA - sortB || cmp(nameA, nameB) || idA - idB;
}

/**
 * Only the texts of these tasks, named in any case (`3-report` or
 * `3-REPORT`); a name the backup has no task for is the user's mistake.
 */
export function selectTasks(texts: TextRecord[], tasks: readonly TaskRecord[], wanted: readonly string[] | undefined): TextRecord[] {
  if (!wanted) return texts;
  const known = new Set(tasks.map((t) => t.downloadName));
  const unknown = wanted.filter((w) => !known.has(w.toUpperCase()));
  if (unknown.length) {
    throw new RecoverError('USAGE_UNKNOWN_TASK', `no task ${unknown.join(', ')} in this backup`, { hint: `its tasks are ${[...known].join(', ')}` });
  }
  const set = new Set(wanted.map((w) => w.toUpperCase()));
  return texts.filter((t) => set.has(t.task_name));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The newest created_at/modified_at among texts ("YYYY-MM-DD HH:MM" sorts as text). */
export function newestTimestamp(texts: readonly ServerText[]): string | null {
  let newest: string | null = null;
  for (const t of texts) for (const v of [t.created_at, t.modified_at]) if (v && (!newest || v > newest)) newest = v;
  return newest;
}

/** Just the server's fields, in the server's key order. */
export function toServerText(r: ServerText): ServerText {
  return { task_name: r.task_name, username: r.username, created_at: r.created_at, modified_at: r.modified_at, is_enabled: r.is_enabled, text: r.text };
}
