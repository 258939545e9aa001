/**
 * session: backups loaded into a throwaway database for as long as a command
 * needs them (one.ts: one backup; many.ts: many in one engine), with the
 * guarantee that whatever was started is stopped and removed.
 */
export type { SessionConfig,  LoadedBackup,   } from './config.js';
;
export { withBackup } from './one.js';
export { withBackups, streamBackups, loadsInFlight, LOAD_MEMORY,  type BackupSet,  type ManyConfig, type BackupLoadEvent,  } from './many.js';
export { inspectBackup, type InspectReport } from './inspect.js';
export { cohortTimelines, type CohortTimelines } from './cohort.js';
export { studentSnapshots, textsFor, chooseUser, type Snapshot, type SnapshotTask,  } from './student.js';
