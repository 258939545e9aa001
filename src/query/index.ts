/**
 * query: a student's texts, with the race server's own semantics
 * (race-server.md; buggy_race_server/utils.py get_user_task_texts_as_list).
 *
 * The scratch tables hold every column as text (see load/), so types are
 * applied here, and only to columns the backup actually had.
 */
export {
  BackupQuery,
  danglingTexts,
  newestTimestamp,
  NOT_UTF8_HINT,
  selectTasks,
  
  taskOrder,
  toServerText,
  
  
  
  
  type ServerText,
  type TaskRecord,
  
  
  type TextRecord,
  type UserRecord,
} from './query.js';
export { matchUser, realName, searchUsers } from './users.js';
