/**
 * report: the history as one self-contained HTML page. No script, no
 * external resource (a Content-Security-Policy forbids both, so even a
 * mistake in escaping could not run anything or reach the network); inline
 * CSS and inline SVG only. Every text from a backup is escaped: students'
 * texts hold <script>, </textarea>, bidi overrides and control bytes.
 *
 * Per task: a chart of the text's length over the dates, which date to
 * restore from, and each change as the two versions side by side with the
 * changed lines and words highlighted.
 */
export { esc } from './escape.js';
export {  type ReportRestore, renderHtmlReport, sideBySide } from './report.js';
export { renderCohortReport } from './cohort.js';
