/**
 * detect: what kind of backup a path holds, from its bytes (never its name),
 * plus what its first bytes say about where it came from.
 */
export { readArchiveInfo, checkArchiveData,      } from '../archive/index.js';
export {  type BackupFile, type DetectOptions, detectBackup, assertBackupPathExists, isReadOnce } from './detect.js';
export { backupDate,  DATE_RULE, DATE_SOURCE_NOTE, type BackupDate } from './date.js';
export { copiesNote } from './copies.js';
export { selectBackups, newerBackupsBeside, parseDateBound, tieNote, type BackupTie, type DateRange } from './folder.js';
export { nearbyPaths } from './nearby.js';
export { foreignEntries, ownOutputKind, OWN_FILES, OWN_FOLDERS } from './own.js';
