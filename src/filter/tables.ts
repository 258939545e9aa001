/**
 * The tables recovery needs, and for each the only columns it keeps.
 *
 * Everything else in a backup (other tables, and the other columns of these:
 * password hashes, tokens, API keys, emails, `users.latest_json`, the tasks'
 * long Markdown bodies) is dropped by the filter before anything reaches the
 * throwaway database. Less to load, and no secret ever leaves the backup file.
 * See race-server.md for what each column means.
 */
export const WANTED_COLUMNS = {
  users: ['id', 'username', 'ext_username', 'first_name', 'last_name', 'is_student', 'is_active', 'created_at'],
  tasks: ['id', 'phase', 'name', 'title', 'is_enabled', 'sort_position'],
  tasktexts: ['id', 'user_id', 'task_id', 'text', 'created_at', 'modified_at'],
  // Before March 2023 the server called the texts table `notes`, same columns.
  notes: ['id', 'user_id', 'task_id', 'text', 'created_at', 'modified_at'],
  settings: ['id', 'value'],
  alembic_version: ['version_num'],
} as const satisfies Record<string, readonly string[]>;

export type WantedTable = keyof typeof WANTED_COLUMNS;

export const WANTED_TABLES = Object.keys(WANTED_COLUMNS) as WantedTable[];

/**
 * Settings rows worth keeping. The settings table also holds secrets (API keys,
 * secret keys, Moodle tokens); only these harmless, useful keys are loaded.
 */
export const KEPT_SETTINGS: ReadonlySet<string> = new Set([
  'PROJECT_CODE',
  'BUGGY_RACE_SERVER_TIMEZONE',
  'IS_STORING_STUDENT_TASK_TEXTS',
  'INSTITUTION_SHORT_NAME',
  'INSTITUTION_FULL_NAME',
]);

function isWantedTable(name: string): name is WantedTable {
  return Object.prototype.hasOwnProperty.call(WANTED_COLUMNS, name);
}

/**
 * Resolve a table reference from the dump to a wanted table, or null.
 * Accepts `name`, `public.name` and quoted forms; unquoted identifiers fold to
 * lower case as PostgreSQL folds them, quoted ones are taken exactly.
 */
export function wantedTableOf(parts: readonly string[]): WantedTable | null {
  if (parts.length === 2 && parts[0] !== 'public') return null;
  if (parts.length < 1 || parts.length > 2) return null;
  const name = parts[parts.length - 1]!;
  return isWantedTable(name) ? name : null;
}
