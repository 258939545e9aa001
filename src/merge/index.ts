/**
 * merge: the upload JSON for a partial restoration. The race server's upload
 * deletes all of a student's texts and inserts the file's (race-server.md),
 * so the file holds every text the student should end up with: the current
 * ones, with chosen tasks taken from chosen backup dates.
 *
 * The upload matches `task_name` exactly against the stored `<phase>-<name>`
 * and warns when `username` differs from the student, so every name is
 * written as the current data stores it and one username is used throughout.
 * Pure functions: the CLI loads the backups and reads the current data.
 */
export { parseCurrentJson, isJsonFile, currentFromJson, currentFromSnapshot } from './current.js';
export { checkUpload,   } from './check.js';
export {  type CurrentData,   parseTake, resolveChoices,    planMerge } from './plan.js';
export { replacements, snapshotOf, freshCurrentCommands, uploadWarning, type Replacement, type CurrentSnapshot } from './safety.js';
export { restoreSteps, uploadFileName, type RestoreSteps } from './steps.js';
export { restorePlan,  } from './restore.js';
export { restoreAll, restoreAllSummary, type AffectedStudent } from './all.js';
