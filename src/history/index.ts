/**
 * history: one student's texts across backup dates. Pure functions over
 * per-date snapshots (what each backup held): which task changed when, how
 * long each text was, which losses are still unrepaired, and the version to
 * restore. Tasks and the student are followed by id, since a rename keeps
 * the row (race-server.md). The snapshots come from session (studentSnapshots),
 * which runs the queries; nothing here touches a database.
 */
export { accountDeletedNote, renderHistoryTable, historyJson, statusText, taskNotes, type HistoryJson } from './render.js';
export { displayTitle, SHARP_SHRINK, SHARP_SHRINK_TEXT, isSharpShrink, textLength, type Change,   DUPLICATE_SEPARATOR,  dateNote, type Cell, type VersionCell, hasVersion,   type TaskHistory, type History, buildHistory, isChange, losesText, taskDiffs } from './model.js';
export { collapseRuns, historyKeeps, shownRows, foldedText, MIN_FOLDED, type ShownRow } from './collapse.js';
export { buildCohort, cohortJson, cohortNotes, renderCohort, type Cohort, type CohortStudent } from './cohort.js';
