/**
 * detect: what kind of backup a path holds, from its bytes (never its name),
 * plus what its first bytes say about where it came from.
 */
export { readArchiveInfo, checkArchiveData, parseArchive, MAX_ARCHIVE_VERSION, type ArchiveInfo, type ArchiveTocEntry, type ArchiveVersion } from '../archive/index.js';
export { type BackupFormat, type BackupFile, detectBackup, assertBackupPathExists } from './detect.js';
export { backupDate, dateFromName, DATE_RULE, DATE_SOURCE_NOTE, type BackupDate } from './date.js';
export { selectBackups, newerBackupsBeside, parseDateBound, type BackupSelection, type SelectedBackup, type DateRange } from './folder.js';
export { nearbyPaths } from './nearby.js';
