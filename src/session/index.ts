/**
 * session: backups loaded into a throwaway database for as long as a command
 * needs them (one.ts: one backup; many.ts: many in one engine), with the
 * guarantee that whatever was started is stopped and removed.
 */
export type { SessionConfig, SessionPhase, LoadedBackup, BackupLoad, BackupInput } from './config.js';
export { backupDate, backupOrder, type BackupDate } from './date.js';
export { withBackup } from './one.js';
export { withBackups, MAX_PARALLEL_LOADS, type BackupSet, type BackupFailure, type ManyConfig, type BackupLoadEvent, type LoadedEntry } from './many.js';
export { inspectBackup, type InspectReport } from './inspect.js';
export { studentSnapshots, textsFor, chooseUser, type Snapshot, type SnapshotTask, type BackupMatch } from './student.js';
